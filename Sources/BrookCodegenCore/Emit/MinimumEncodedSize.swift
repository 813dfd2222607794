/// The fewest bytes a value of a field type can take on the wire in one version. Decoders check
/// an array's count against it (count × minimum ≤ bytes left) before allocating, so that a
/// claimed count can never ask for more elements than the frame could actually hold.
///
/// Tagged fields are optional and count nothing; a flexible struct always carries its tagged
/// field count (one byte at least); a nullable struct may be the one-byte null marker.
struct MinimumEncodedSize {
    /// The message's structs by name.
    let structs: [String: StructModel]
    /// The message's flexible versions.
    let flexible: Versions

    /// The smallest size of `type` over `versions` (a lower bound valid in each of them).
    func smallest(_ type: FieldType, field: FieldSpec, in versions: Versions) -> Int {
        guard !versions.isEmpty else { return 1 }
        var smallest = Int.max
        for version in versions.lowest...versions.highest {
            smallest = min(smallest, size(of: type, compact: isCompact(field, version: version), nullable: false, version: version))
        }
        return smallest
    }

    private func size(of type: FieldType, compact: Bool, nullable: Bool, version: Int16) -> Int {
        switch type {
        case .bool, .int8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32: return 4
        case .int64, .float64: return 8
        case .uuid: return 16
        case .string: return compact ? 1 : 2
        case .bytes, .records, .array: return compact ? 1 : 4
        case .structure(let name):
            if nullable { return 1 }
            guard let model = structs[name] else { return 1 }
            var total = flexible.contains(version) ? 1 : 0
            for field in model.fields where field.regularVersions.contains(version) {
                total += size(
                    of: field.type, compact: isCompact(field, version: version),
                    nullable: field.nullableVersions.contains(version), version: version)
            }
            return max(total, 1)
        }
    }

    private func isCompact(_ field: FieldSpec, version: Int16) -> Bool {
        if let override = field.flexibleVersions, override.isEmpty { return false }
        return flexible.contains(version)
    }
}
