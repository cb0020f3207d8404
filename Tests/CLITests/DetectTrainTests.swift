import Foundation
import Testing
import VoiceGuardTestSupport

/// `voiceguard train`, `detect` and `detect --eval` end to end on the committed fixtures.
@Suite("voiceguard train / detect", .serialized)
struct DetectTrainTests {
    static var fixtures: String { repositoryRoot + "/Corpora/fixtures/speech" }

    @Test("train on a manifest, score files with segments and JSON, evaluate; the model file is checked")
    func trainDetectEval() throws {
        let dir = Scratch()
        // Every fixture row trains and calibrates (the fixture splits keep one class per split).
        let rows = try String(contentsOfFile: Self.fixtures + "/manifest.csv", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let header = rows[0] + ",fold"
        let body = rows.dropFirst().map { line -> String in
            let absolute = line.replacingOccurrences(of: ",wide/", with: "," + Self.fixtures + "/wide/")
            return absolute + ",all"
        }
        try ([header] + body).joined(separator: "\n").write(toFile: dir.file("m.csv"), atomically: true, encoding: .utf8)
        let train = try CLI.run(["train", dir.file("m.csv"), "--out", dir.file("model.json"), "--split-column", "fold",
                                 "--train-split", "all", "--calibration-split", "all", "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any]
        let training = summary?["training"] as? [String: Any]
        #expect(training?["train_bonafide"] as? Int == 12 && training?["train_spoof"] as? Int == 12)
        // No clobbering without -y.
        let again = try CLI.run(["train", dir.file("m.csv"), "--out", dir.file("model.json"), "--split-column", "fold"])
        #expect(again.status == 73, "\(again.stderr)")
        // Group-balanced training records its columns; a column the manifest lacks is named, and nothing is written.
        let balanced = try CLI.run(["train", dir.file("m.csv"), "--out", dir.file("balanced.json"), "--split-column", "fold",
                                    "--train-split", "all", "--calibration-split", "all", "--balance-by", "engine,language", "--json"])
        #expect(balanced.status == 0, "\(balanced.stderr)")
        let balancedTraining = (try JSONSerialization.jsonObject(with: Data(balanced.stdout.utf8)) as? [String: Any])?["training"] as? [String: Any]
        #expect(balancedTraining?["balanced_by"] as? [String] == ["engine", "language"])
        let noColumn = try CLI.run(["train", dir.file("m.csv"), "--out", dir.file("nocolumn.json"), "--split-column", "fold",
                                    "--train-split", "all", "--calibration-split", "all", "--balance-by", "family"])
        #expect(noColumn.status == 65 && noColumn.stderr.contains("column 'family' is missing"), "\(noColumn.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("nocolumn.json")))
        // Calibration on out-of-engine scores (each spoof engine scored by a classifier that never saw it); split lists.
        let across = try CLI.run(["train", dir.file("m.csv"), "--out", dir.file("across.json"), "--split-column", "fold",
                                  "--train-split", "all,unused", "--calibrate-across", "engine", "--json"])
        #expect(across.status == 0, "\(across.stderr)")
        let acrossTraining = (try JSONSerialization.jsonObject(with: Data(across.stdout.utf8)) as? [String: Any])?["training"] as? [String: Any]
        #expect((acrossTraining?["calibration_split"] as? String)?.hasPrefix("out-of-engine") == true, "\(String(describing: acrossTraining))")
        #expect(acrossTraining?["train_bonafide"] as? Int == 12 && acrossTraining?["calibration_spoof"] as? Int == 12)

        let sample = Self.fixtures + "/en-us-allison-conf-onlyperson.wav"
        let detect = try CLI.run(["detect", sample, "--model", dir.file("model.json"), "--segments", "2", "--json"])
        #expect(detect.status == 0, "\(detect.stderr)")
        let output = try JSONSerialization.jsonObject(with: Data(detect.stdout.utf8)) as? [String: Any]
        let file = (output?["files"] as? [[String: Any]])?.first
        #expect(file?["llr"] is Double)
        #expect(["bonafide", "synthetic", "abstain"].contains(file?["decision"] as? String ?? ""))
        #expect(((file?["segments"] as? [Any])?.count ?? 0) >= 2)
        #expect((output?["polarity"] as? String)?.contains("higher = bona fide") == true)

        let eval = try CLI.run(["detect", "--eval", dir.file("m.csv"), "--model", dir.file("model.json"),
                                "--split-column", "fold", "--split", "all", "--json", "--scores", dir.file("scores.csv")])
        #expect(eval.status == 0, "\(eval.stderr)")
        let metrics = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["overall"] as? [String: Any]
        #expect(metrics?["bonafide"] as? Int == 12)
        #expect((metrics?["eer"] as? Double ?? 1) < 0.2, "training-set EER \(String(describing: metrics?["eer"]))")
        #expect(FileManager.default.fileExists(atPath: dir.file("scores.csv")))

        // Groups: a bona fide side of one gender that spoofs share is grouped plainly (gender=F: 12 bona fide + 5 spoofs,
        // gender=M: the 7 male spoofs alone); a value only bona fide rows carry (engine=human) compares each engine with
        // all bona fide.
        let lines = try String(contentsOfFile: dir.file("m.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let columns = lines[0].split(separator: ",").map(String.init)
        let genderIndex = columns.firstIndex(of: "gender")!, labelIndex = columns.firstIndex(of: "label")!
        let female = [lines[0]] + lines.dropFirst().map { line -> String in
            // The columns up to gender hold no commas; the text after them may (quoted), so split only that far.
            var fields = line.split(separator: ",", maxSplits: genderIndex + 1, omittingEmptySubsequences: false).map(String.init)
            if fields.count == genderIndex + 2, fields[labelIndex] == "bonafide" { fields[genderIndex] = "F" }
            return fields.joined(separator: ",")
        }
        try female.joined(separator: "\n").write(toFile: dir.file("f.csv"), atomically: true, encoding: .utf8)
        let byGender = try CLI.run(["detect", "--eval", dir.file("f.csv"), "--model", dir.file("model.json"),
                                    "--split-column", "fold", "--split", "all", "--by", "gender,engine", "--json"])
        #expect(byGender.status == 0, "\(byGender.stderr)")
        let groups = (try JSONSerialization.jsonObject(with: Data(byGender.stdout.utf8)) as? [String: Any])?["groups"] as? [[String: Any]] ?? []
        func counts(_ attribute: String, _ value: String) -> (Int, Int)? {
            guard let g = groups.first(where: { $0["attribute"] as? String == attribute && $0["value"] as? String == value }),
                  let m = g["metrics"] as? [String: Any] else { return nil }
            return (m["bonafide"] as? Int ?? -1, m["spoof"] as? Int ?? -1)
        }
        #expect(counts("gender", "F").map { $0 == (12, 5) } == true, "gender=F: \(String(describing: counts("gender", "F")))")
        #expect(counts("gender", "M").map { $0 == (0, 7) } == true, "gender=M: \(String(describing: counts("gender", "M")))")
        #expect(counts("engine", "flite").map { $0 == (12, 3) } == true)
        #expect(counts("engine", "human") == nil)

        // Any feature set trains, and the model carries it.
        let phase = try CLI.run(["train", dir.file("m.csv"), "--out", dir.file("mgd.json"), "--split-column", "fold",
                                 "--train-split", "all", "--calibration-split", "all", "--features", "mgd,cqcc-dynamics", "-q"])
        #expect(phase.status == 0, "\(phase.stderr)")
        let phaseModel = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("mgd.json")))) as? [String: Any]
        let phaseFeatures = phaseModel?["features"] as? [String: Any]
        #expect(phaseFeatures?["name"] as? String == "mgd+cqcc-dynamics/2" && phaseFeatures?["dimension"] as? Int == 78)
        let phaseDetect = try CLI.run(["detect", sample, "--model", dir.file("mgd.json"), "--json"])
        #expect(phaseDetect.status == 0, "\(phaseDetect.stderr)")

        // The built-in default model scores without --model.
        let builtIn = try CLI.run(["detect", sample])
        #expect(builtIn.status == 0 && builtIn.stdout.contains("LLR"), "\(builtIn.stderr)")
    }

    @Test("bad model, too-short audio and misuse give specific errors")
    func errors() throws {
        let dir = Scratch()
        try Data("{\"format\": \"other\"}".utf8).write(to: URL(fileURLWithPath: dir.file("bad.json")))
        let sample = Self.fixtures + "/en-us-allison-conf-onlyperson.wav"
        let bad = try CLI.run(["detect", sample, "--model", dir.file("bad.json")])
        #expect(bad.status == 65 && bad.stderr.contains("bad.json") && bad.stderr.contains("missing field"), "\(bad.stderr)")
        let blip = try CLI.shell("sox -n -r 8000 -c 1 \(CLI.quote(dir.file("blip.wav"))) synth 0.2 sine 300")
        #expect(blip.status == 0, "sox: \(blip.stderr)")
        let short = try CLI.run(["detect", dir.file("blip.wav")])
        #expect(short.status == 65 && short.stderr.contains("need at least 0.30 s"), "\(short.stderr)")
        let none = try CLI.run(["detect"])
        #expect(none.status == 64, "\(none.stderr)")
        let missing = try CLI.run(["train", dir.file("nope.csv"), "--out", dir.file("m.json")])
        #expect(missing.status == 66 || missing.status == 65, "\(missing.stderr)")
        let badFeatures = try CLI.run(["train", dir.file("nope.csv"), "--out", dir.file("m.json"), "--features", "lfcc-dynamics,wavelets"])
        #expect(badFeatures.status == 64 && badFeatures.stderr.contains("unknown feature block \"wavelets\""), "\(badFeatures.stderr)")
    }

    @Test("music, tones, noise and silence get no-speech (no LLR); speech is scored; the gate can be trained, evaluated and turned off")
    func speechGate() throws {
        let dir = Scratch()
        // Generated non-speech: a steady tone, a two-tone cadence (ringback), white noise, digital silence.
        let makers = ["tone.wav": "synth 3 sine 440", "ringback.wav": "synth 4 sine 440 sine 480 remix 1,2 trim 0 4",
                      "noise.wav": "synth 3 whitenoise vol 0.1", "silence.wav": "trim 0 2"]
        for (name, effect) in makers.sorted(by: { $0.key < $1.key }) {
            let made = try CLI.shell("sox -n -r 16000 -c \(name == "ringback.wav" ? 2 : 1) \(CLI.quote(dir.file(name))) \(effect)")
            #expect(made.status == 0, "sox \(name): \(made.stderr)")
        }
        let music = repositoryRoot + "/Corpora/fixtures/music/music-sectoid-feelings-48000-1ch-5s.flac"
        let nonSpeech = makers.keys.sorted().map { dir.file($0) } + [music]
        let sample = Self.fixtures + "/en-us-allison-conf-onlyperson.wav"
        let detect = try CLI.run(["detect"] + nonSpeech + [sample, "--json"])
        #expect(detect.status == 0, "\(detect.stderr)")
        let files = (try JSONSerialization.jsonObject(with: Data(detect.stdout.utf8)) as? [String: Any])?["files"] as? [[String: Any]] ?? []
        #expect(files.count == nonSpeech.count + 1)
        for file in files.dropLast() {
            #expect(file["decision"] as? String == "no-speech", "\(file)")
            #expect(file["llr"] == nil, "no LLR for non-speech: \(file)")
        }
        #expect(files.last?["decision"] as? String != "no-speech" && files.last?["llr"] is Double, "\(String(describing: files.last))")
        // Turned off, a tone is scored like speech again (what the gate prevents).
        let off = try CLI.run(["detect", dir.file("tone.wav"), "--speech-gate", "off", "--json"])
        let offFile = ((try JSONSerialization.jsonObject(with: Data(off.stdout.utf8)) as? [String: Any])?["files"] as? [[String: Any]])?.first
        #expect(off.status == 0 && offFile?["llr"] is Double, "\(off.stderr)")

        // gate-train on the speech fixtures against the generated non-speech; gate-eval reports both sides.
        var rows = ["id,path,speech,kind,split"]
        for (i, path) in nonSpeech.enumerated() { rows.append("ns\(i),\(path),no,\(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent),train") }
        try rows.joined(separator: "\n").write(toFile: dir.file("ns.csv"), atomically: true, encoding: .utf8)
        let speechRows = try String(contentsOfFile: Self.fixtures + "/manifest.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let absolute = [speechRows[0]] + speechRows.dropFirst().map { $0.replacingOccurrences(of: ",wide/", with: "," + Self.fixtures + "/wide/") }
        try absolute.joined(separator: "\n").write(toFile: dir.file("speech.csv"), atomically: true, encoding: .utf8)
        let train = try CLI.run(["gate-train", "--speech", dir.file("speech.csv"), "--nonspeech", dir.file("ns.csv"),
                                 "--split-column", "none", "--out", dir.file("gate.json"), "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let training = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any]
        #expect((training?["non_speech"] as? Int ?? 0) == nonSpeech.count - 1, "silence does not train: \(String(describing: training))")
        let again = try CLI.run(["gate-train", "--speech", dir.file("speech.csv"), "--nonspeech", dir.file("ns.csv"), "--out", dir.file("gate.json")])
        #expect(again.status == 73, "no clobbering without -y: \(again.stderr)")
        let eval = try CLI.run(["gate-eval", dir.file("ns.csv"), dir.file("speech.csv"), "--speech-gate", dir.file("gate.json"),
                                "--split", "all", "--by", "kind", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let reports = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["manifests"] as? [[String: Any]] ?? []
        let nsAll = (reports.first?["groups"] as? [[String: Any]])?.first
        #expect(nsAll?["non_speech"] as? Int == nonSpeech.count && (nsAll?["non_speech_caught"] as? Double ?? 0) >= 0.8, "\(String(describing: nsAll))")
        let speechAll = (reports.last?["groups"] as? [[String: Any]])?.first
        #expect((speechAll?["speech"] as? Int ?? 0) > 0 && (speechAll?["speech_called_no_speech"] as? Double ?? 1) <= 0.1, "\(String(describing: speechAll))")
        // A gate file that is not one is named in the error.
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir.file("bad-gate.json")))
        let bad = try CLI.run(["detect", sample, "--speech-gate", dir.file("bad-gate.json")])
        #expect(bad.status == 65 && bad.stderr.contains("bad-gate.json"), "\(bad.stderr)")
    }
}
