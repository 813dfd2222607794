/// Left-aligned columns, each as wide as its widest cell plus a gap, like Kafka's tools print.
struct TextTable {
    var header: [String]
    var rows: [[String]]

    var rendered: String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        let lines = ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }.joined()
        }
        return lines.joined(separator: "\n")
    }
}
