import Foundation
public import Manifests

/// Which part of a corpus one process audits: items whose key (the speaker when the manifest has a speaker column,
/// else the id) hashes (FNV-1a, 64 bit) to `index` modulo `count`. Deterministic across machines and runs, and a
/// speaker's items always land in the same shard.
public struct Shard: Sendable, Hashable, Codable {
    /// Number of shards, ≥ 1.
    public var count: Int
    /// This shard, 0 ..< count.
    public var index: Int

    /// The whole corpus.
    public static let all = Shard(unchecked: 1, 0)

    /// Creates a shard.
    /// - Throws: `AuditError.invalidSetting` unless 1 ≤ count and 0 ≤ index < count.
    public init(count: Int, index: Int) throws(AuditError) {
        guard count >= 1, (0..<count).contains(index) else {
            throw .invalidSetting(detail: "shard \(index) of \(count): expected --num-shards ≥ 1 and 0 ≤ --shard-index < --num-shards")
        }
        self.count = count
        self.index = index
    }

    private init(unchecked count: Int, _ index: Int) { self.count = count; self.index = index }

    /// The shard a cluster scheduler assigned: Slurm array (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, and
    /// `SLURM_ARRAY_TASK_MIN` when the array does not start at 0) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`
    /// with the count given explicitly). Explicit values win over the environment.
    public static func resolve(count: Int?, index: Int?, environment: [String: String]) throws(AuditError) -> Shard {
        // A variable that is set must be a whole number: a garbled one is an error, never silently shard 0.
        func integer(_ name: String) throws(AuditError) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw .invalidSetting(detail: "environment variable \(name)=\"\(text)\": expected a whole number")
            }
            return value
        }
        let slurmIndex = try integer("SLURM_ARRAY_TASK_ID")
        let slurmMin = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
        let slurmCount = try integer("SLURM_ARRAY_TASK_COUNT")
        let k8sIndex = try integer("JOB_COMPLETION_INDEX")
        let n = count ?? slurmCount ?? 1
        let i = index ?? slurmIndex.map { $0 - slurmMin } ?? k8sIndex ?? 0
        return try Shard(count: n, index: i)
    }

    /// Whether an item with this key belongs to the shard.
    public func contains(key: String) -> Bool {
        count == 1 || Int(Self.fnv1a(key) % UInt64(count)) == index
    }

    /// FNV-1a, 64 bit, of the UTF-8 bytes.
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// Runs a check over a corpus with bounded parallelism, appending each result to the log as it completes.
public enum AuditRunner {
    /// Progress so far: items done (including those found in the log on resume), items in this run in all.
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    /// The items of `manifest` in `shard` (keyed by `speakerColumn` when present), in manifest order.
    public static func items(of manifest: Manifest, shard: Shard, speakerColumn: String?) -> [AuditItem] {
        manifest.records.filter { r in
            let speaker = speakerColumn.flatMap { r.attributes[$0] } ?? ""
            return shard.contains(key: speaker.isEmpty ? r.id : speaker)
        }.map { AuditItem(record: $0, manifestFolder: (manifest.path as NSString).deletingLastPathComponent) }
    }

    /// Runs `check` on every item not already in `done`, at most `jobs` at a time; failures are recorded as results
    /// with an error and the run goes on.
    /// - Returns: results appended in this call.
    /// - Throws: `AuditError.cannotWrite` when the log cannot be appended to (the run stops: results would be lost).
    @discardableResult
    public static func run(_ items: [AuditItem], check: any AuditCheck, log: ResultsLog, done: Set<String>, jobs: Int,
                           progress: Progress? = nil) async throws(AuditError) -> Int {
        let pending = items.filter { !done.contains($0.id) }
        let total = items.count
        var completed = total - pending.count
        progress?(completed, total)
        var appended = 0
        let outcome: AuditError? = await withTaskGroup(of: AuditItemResult.self, returning: AuditError?.self) { group in
            var next = 0
            func addNext() {
                guard next < pending.count else { return }
                let item = pending[next]
                next += 1
                group.addTask { measure(item, check: check) }
            }
            for _ in 0..<max(1, jobs) { addNext() }
            while let result = await group.next() {
                do { try log.append(result) } catch {
                    group.cancelAll()
                    return error as? AuditError ?? .cannotWrite(path: log.path, detail: "\(error)")
                }
                appended += 1
                completed += 1
                progress?(completed, total)
                addNext()
            }
            return nil
        }
        log.synchronize()
        if let outcome { throw outcome }
        return appended
    }

    /// One item's result: the check's, or a failure record.
    static func measure(_ item: AuditItem, check: any AuditCheck) -> AuditItemResult {
        var attributes = item.record.attributes
        attributes["path"] = nil
        do {
            var result = try check.run(item)
            result.attributes = attributes
            return result
        } catch {
            return AuditItemResult(id: item.id, check: check.name, attributes: attributes, error: "\(error)")
        }
    }
}
