/// Kafka's rules for topic names.
enum TopicName {
    /// Kafka's limit: a topic folder `<name>-<partition>` must fit a file name.
    static let maximumLength = 249

    /// Returns why `name` is not a legal topic name, or nil if it is.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "Topic name is illegal, it can't be empty" }
        if name == "." || name == ".." { return "Topic name cannot be \".\" or \"..\"" }
        if name.utf8.count > maximumLength {
            return "Topic name is illegal, it can't be longer than \(maximumLength) characters, topic name: \(name)"
        }
        for byte in name.utf8 {
            let legal = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            if !legal {
                return "Topic name \(name) is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
            }
        }
        return nil
    }

    /// Internal topics that clients may not create or delete.
    static let internalTopics: Set<String> = ["__consumer_offsets", "__transaction_state", "__cluster_metadata"]
}
