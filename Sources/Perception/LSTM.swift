import RealModule

/// One LSTM layer with PyTorch's gate layout (input, forget, cell, output), stored for fast stepping:
/// the input and recurrent weights of each gate row side by side, so one step is `4·hidden` dot products
/// over `[x; h]` with the two biases folded into one.
struct LSTMLayer: Sendable {
    /// Input values per step.
    let inputSize: Int
    /// Hidden units.
    let hiddenSize: Int
    /// `4·hiddenSize` rows of `inputSize + hiddenSize` values: row r = [W_ih[r] | W_hh[r]].
    let weights: [Float]
    /// `b_ih + b_hh`, `4·hiddenSize` values.
    let bias: [Float]

    /// Builds a layer from PyTorch-layout tensors (`weightIH`: 4H×I, `weightHH`: 4H×H, biases 4H).
    init(inputSize: Int, hiddenSize: Int, weightIH: [Float], weightHH: [Float], biasIH: [Float], biasHH: [Float]) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let width = inputSize + hiddenSize
        var w = [Float](repeating: 0, count: 4 * hiddenSize * width)
        for r in 0..<(4 * hiddenSize) {
            for j in 0..<inputSize { w[r * width + j] = weightIH[r * inputSize + j] }
            for j in 0..<hiddenSize { w[r * width + inputSize + j] = weightHH[r * hiddenSize + j] }
        }
        weights = w
        bias = zip(biasIH, biasHH).map { $0 + $1 }
    }

    /// One step. `state` holds `[x (inputSize) | h (hiddenSize)]` on entry (the caller writes x) and the new h
    /// in its second part on exit; `cell` holds c; `gates` is scratch of `4·hiddenSize` values.
    func step(state: UnsafeMutablePointer<Float>, cell: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>) {
        let width = inputSize + hiddenSize, rows = 4 * hiddenSize
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                let pw = w.baseAddress!
                var r = 0
                // Four rows at a time share the loads of [x; h].
                while r + 4 <= rows {
                    let w0 = pw + r * width, w1 = w0 + width, w2 = w1 + width, w3 = w2 + width
                    var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
                    for j in 0..<width {
                        let v = state[j]
                        a0 = Relaxed.multiplyAdd(w0[j], v, a0)
                        a1 = Relaxed.multiplyAdd(w1[j], v, a1)
                        a2 = Relaxed.multiplyAdd(w2[j], v, a2)
                        a3 = Relaxed.multiplyAdd(w3[j], v, a3)
                    }
                    gates[r] = a0 + b[r]; gates[r + 1] = a1 + b[r + 1]; gates[r + 2] = a2 + b[r + 2]; gates[r + 3] = a3 + b[r + 3]
                    r += 4
                }
            }
        }
        let h = state + inputSize, H = hiddenSize
        for k in 0..<H {
            let i = Self.sigmoid(gates[k]), f = Self.sigmoid(gates[H + k])
            let g = Float.tanh(gates[2 * H + k]), o = Self.sigmoid(gates[3 * H + k])
            let c = f * cell[k] + i * g
            cell[k] = c
            h[k] = o * Float.tanh(c)
        }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Float.exp(-x)) }
}
