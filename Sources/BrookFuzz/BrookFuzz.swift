// brook-fuzz: runs one fuzz target of BrookFuzzTargets.
//
// Normal build (`swift build`): a replay driver.
//     brook-fuzz --list
//     brook-fuzz <target> [files or directories...]
//     brook-fuzz --write-seeds <corpus dir> <protocol request fixtures> <records fixtures>
//
// Fuzz build (`make fuzz-build`: BROOK_FUZZ=1 and --sanitize=fuzzer): libFuzzer's main runs and
// calls LLVMFuzzerTestOneInput; the target comes from BROOK_FUZZ_TARGET.
//     BROOK_FUZZ_TARGET=<target> brook-fuzz [libFuzzer options] [corpus directories]

import BrookFuzzTargets
import Foundation

nonisolated(unsafe) var selectedTarget: FuzzTarget?

/// Where libFuzzer (or the replay loop) sends each input. A failed check is a crash, so that
/// libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = selectedTarget ?? environmentTarget() else {
        fatalError("brook-fuzz: no target; pass one as the first argument or set BROOK_FUZZ_TARGET")
    }
    selectedTarget = target
    do {
        _ = try target.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("brook-fuzz \(target.name): \(error)")
    }
    return 0
}

func environmentTarget() -> FuzzTarget? {
    ProcessInfo.processInfo.environment["BROOK_FUZZ_TARGET"].flatMap(FuzzTarget.named)
}


#if !BROOK_LIBFUZZER
/// The replay driver of a normal build. In a fuzz build libFuzzer's own main runs instead.
@main
enum BrookFuzzCommand {
    static func usage() -> Never {
        var text = "usage: brook-fuzz <target> [inputs or libFuzzer options...]\ntargets:\n"
        for target in FuzzTarget.all { text += "  \(target.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(target.summary)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        exit(2)
    }

    static func main() {
        var arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == "--list" {
            for target in FuzzTarget.all { print(target.name) }
            exit(0)
        }
        if arguments.count == 5, arguments[1] == "--write-seeds" {
            let output = URL(fileURLWithPath: arguments[2])
            do {
                let seeds = try FuzzSeeds.all(
                    requests: URL(fileURLWithPath: arguments[3]), records: URL(fileURLWithPath: arguments[4]))
                for (target, files) in seeds.sorted(by: { $0.key < $1.key }) {
                    let folder = output.appendingPathComponent(target)
                    try? FileManager.default.removeItem(at: folder)
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    for file in files {
                        try Data(file.bytes).write(to: folder.appendingPathComponent(file.name))
                    }
                    print("\(target): \(files.count) seeds")
                }
            } catch {
                fatalError("brook-fuzz --write-seeds: \(error)")
            }
            exit(0)
        }
        if arguments.count > 1, let target = FuzzTarget.named(arguments[1]) {
            selectedTarget = target
            arguments.remove(at: 1)
        } else if let target = environmentTarget() {
            selectedTarget = target
        } else {
            usage()
        }
        setenv("BROOK_FUZZ_TARGET", selectedTarget!.name, 1)

        // Replay: every file named, and every file in every directory named.
        var files: [String] = []
        for path in arguments.dropFirst() where !path.hasPrefix("-") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        var counts: [FuzzOutcome: Int] = [:]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let outcome: FuzzOutcome
            do {
                outcome = try selectedTarget!(Array(data))
            } catch {
                fatalError("brook-fuzz \(selectedTarget!.name): \(file): \(error)")
            }
            counts[outcome, default: 0] += 1
        }
        print("brook-fuzz \(selectedTarget!.name): replayed \(files.count) inputs: "
            + "\(counts[.accepted] ?? 0) accepted, \(counts[.rejected] ?? 0) rejected")
    }
}
#endif
