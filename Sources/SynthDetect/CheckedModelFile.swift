import Foundation

/// A versioned JSON file that checks itself when loaded (detector models, speech gates): the one rule for reading,
/// decoding and validating them, with errors that name the file.
protocol CheckedModelFile: Decodable {
    /// What the file holds, as errors name it ("model", "speech-gate").
    static var fileKind: String { get }
    /// Checks format, version, sizes and values after decoding. - Parameter path: shown in errors.
    func validate(path: String) throws(SynthDetectError)
}

extension CheckedModelFile {
    /// Decodes and validates `data`. - Parameter path: shown in errors.
    static func decodeChecked(_ data: Data, path: String) throws(SynthDetectError) -> Self {
        let value: Self
        do {
            value = try JSONDecoder().decode(Self.self, from: data)
        } catch {
            throw .badModel(path: path, detail: "not valid \(fileKind) JSON (\(SynthDetectModel.describe(error)))")
        }
        try value.validate(path: path)
        return value
    }

    /// Reads, decodes and validates the file at `path`.
    static func loadChecked(path: String) throws(SynthDetectError) -> Self {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badModel(path: path, detail: "cannot read the file")
        }
        return try decodeChecked(data, path: path)
    }
}
