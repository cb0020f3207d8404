public import AudioCore

/// Changes the number of channels of interleaved audio.
///
/// Down-mixing to M channels averages the source channels c with c mod M = m into output m
/// (to mono: the mean of all channels — no clipping, level of correlated content kept).
/// Up-mixing copies source channel m mod N into output m (mono → N: every output is the mono
/// signal; stereo → 4: L, R, L, R).
public enum ChannelMixer {
    /// Remixes `input` (`sourceChannels` interleaved) to `targetChannels`, appending to `output`.
    public static func remix(_ input: UnsafeBufferPointer<Float>, from sourceChannels: Int, to targetChannels: Int,
                             appendingTo output: inout [Float]) {
        precondition(sourceChannels >= 1 && targetChannels >= 1)
        let frames = input.count / sourceChannels
        if sourceChannels == targetChannels {
            output.append(contentsOf: input)
            return
        }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: frames * targetChannels))
        output.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress! + start
            let x = input.baseAddress!
            if targetChannels < sourceChannels {
                var counts = [Float](repeating: 0, count: targetChannels)
                for c in 0..<sourceChannels { counts[c % targetChannels] += 1 }
                let gains = counts.map { 1 / $0 }
                for f in 0..<frames {
                    let src = x + f * sourceChannels, dst = o + f * targetChannels
                    for c in 0..<sourceChannels { dst[c % targetChannels] += src[c] }
                    for m in 0..<targetChannels { dst[m] *= gains[m] }
                }
            } else {
                for f in 0..<frames {
                    let src = x + f * sourceChannels, dst = o + f * targetChannels
                    for m in 0..<targetChannels { dst[m] = src[m % sourceChannels] }
                }
            }
        }
    }

    /// A copy of `buffer` with `channelCount` channels.
    public static func remix(_ buffer: AudioBuffer, to channelCount: Int) -> AudioBuffer {
        var out: [Float] = []
        out.reserveCapacity(buffer.frameCount * channelCount)
        buffer.samples.withUnsafeBufferPointer { remix($0, from: buffer.channelCount, to: channelCount, appendingTo: &out) }
        return AudioBuffer(sampleRate: buffer.sampleRate, channelCount: channelCount, samples: out)
    }

    /// The mono mix (mean of all channels) of `buffer`.
    public static func mono(_ buffer: AudioBuffer) -> [Float] {
        remix(buffer, to: 1).samples
    }
}
