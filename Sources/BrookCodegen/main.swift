// brook-codegen: writes Brook's protocol sources from Apache Kafka's JSON message definitions.
//
//     brook-codegen [--check] <kafka-protocol folder> <output folder>
//
// With --check nothing is written; the exit status is 1 when the output folder is stale.
import BrookCodegenCore
import Foundation

var arguments = Array(CommandLine.arguments.dropFirst())
let check = arguments.first == "--check"
if check { arguments.removeFirst() }
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: brook-codegen [--check] <kafka-protocol folder> <output folder>\n".utf8))
    exit(2)
}
let input = URL(fileURLWithPath: arguments[0])
let output = URL(fileURLWithPath: arguments[1])
do {
    let generator = try Generator(protocolRoot: input)
    if check {
        let differences = try generator.differences(from: output)
        if differences.isEmpty {
            print("generated code is current (\(generator.specs.count) definitions)")
        } else {
            differences.forEach { print($0) }
            print("generated code is stale: run `make generate`")
            exit(1)
        }
    } else {
        try generator.write(to: output)
        print("generated \(generator.specs.count) definitions into \(output.path)")
    }
} catch {
    FileHandle.standardError.write(Data("brook-codegen: \(error)\n".utf8))
    exit(1)
}
