import Foundation
import Testing
import VoiceGuardTestSupport
@testable import Watermark
import AudioCore

@Suite("Watermark coding: SHA-256, HMAC, CRC, convolutional code, payloads, keys")
struct CodingTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256() {
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("HMAC-SHA-256 matches RFC 4231 test cases 1 and 2")
    func hmac() {
        #expect(hex(SHA256.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hex(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("CRC-32 of \"123456789\" is CBF43926")
    func crc() {
        let bits = Array("123456789".utf8).flatMap { b in (0..<8).map { (b >> $0) & 1 } }  // LSB first, as the reflected CRC reads
        let crc = ChannelCode.crc32(bits).reduce(UInt32(0)) { $0 << 1 | UInt32($1) }
        #expect(crc == 0xCBF4_3926)
    }

    @Test("the convolutional code corrects noisy soft values and rejects garbage")
    func viterbi() {
        var rng = SplitMix64(seed: 7)
        let payload = (0..<128).map { _ in UInt8.random(in: 0...1, using: &rng) }
        let coded = ChannelCode.encode(payload)
        #expect(coded.count == ChannelCode.codedLength(payloadBits: 128))
        // Soft values with noise, 8 % hard errors and 10 % erasures.
        let soft: [Float] = coded.map { bit in
            let r = Float.random(in: 0...1, using: &rng)
            if r < 0.10 { return 0 }
            let sign: Float = (bit == 1) != (r < 0.18) ? 1 : -1
            return sign * Float.random(in: 0.2...1, using: &rng)
        }
        #expect(ChannelCode.decode(soft, payloadBits: 128) == payload)
        let garbage = (0..<coded.count).map { _ in Float.random(in: -1...1, using: &rng) }
        #expect(ChannelCode.decode(garbage, payloadBits: 128) == nil)
    }

    @Test("payload parsing names the bad character or length")
    func payloads() throws {
        #expect(try Payload(hex: "0x0123456789ABCDEF0123456789abcdef").hex == "0123456789abcdef0123456789abcdef")
        #expect(try Payload(hex: "deadbeef", size: .short).bits.count == 32)
        let bad = #expect(throws: WatermarkError.self) { try Payload(hex: "0123456789abcdeg0123456789abcdef") }
        #expect(bad?.description.contains("character 16 ('g')") == true)
        let short = #expect(throws: WatermarkError.self) { try Payload(hex: "abcd") }
        #expect(short?.description.contains("needs exactly 32") == true)
        // Full-width digits are Unicode hex digits but not ASCII ones: an error, not a crash.
        let wide = #expect(throws: WatermarkError.self) { try Payload(hex: "\u{FF10}\u{FF11}eadbee", size: .short) }
        #expect(wide?.description.contains("character 1") == true)
    }

    @Test("keys: written 0600, never replaced, checked when read, never printed")
    func keys() throws {
        let dir = NSTemporaryDirectory() + "vg-key-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = WatermarkKey.generate()
        let path = dir + "/k"
        try key.write(to: path)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try WatermarkKey.read(from: path) == key)
        #expect(throws: WatermarkError.self) { try WatermarkKey.generate().write(to: path) }
        #expect(!key.description.contains(key.bytes.map { String(format: "%02x", $0) }.joined()))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: WatermarkError.keyTooOpen(path: path, mode: "644")) { try WatermarkKey.read(from: path) }
        let bad = dir + "/bad"
        _ = FileManager.default.createFile(atPath: bad, contents: Data("voiceguard-watermark-key v1\nxyz\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        let error = #expect(throws: WatermarkError.self) { try WatermarkKey.read(from: bad) }
        #expect(error?.description.contains("line 2") == true)
        #expect(throws: WatermarkError.keyNotFound(path: dir + "/none")) { try WatermarkKey.read(from: dir + "/none") }
    }
}

