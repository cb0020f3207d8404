// The umbrella module: `import VoiceGuard` gives every public VoiceGuard API.
@_exported public import AudioCore
@_exported public import AudioIO
@_exported public import DSP
@_exported public import Manifests
@_exported public import Evaluation
@_exported public import Corpus
@_exported public import Learning
@_exported public import Perception
@_exported public import Watermark
@_exported public import SynthDetect
@_exported public import Redaction

/// Version information of the toolkit.
public enum VoiceGuardVersion {
    /// Semantic version of this build of VoiceGuard.
    public static let current = "0.1.0"
}
@_exported public import Audit
