import Foundation

extension SynthDetectModel {
    /// The model shipped with this build (see `Models/README.md`), or nil when none is bundled.
    public static func bundledDefault() throws(SynthDetectError) -> SynthDetectModel? {
        guard let json = bundledDefaultJSON else { return nil }
        return try decode(Data(json.utf8), path: "(built-in default model)")
    }
}
