/// Runs `transform` over `items` with at most `jobs` calls in flight (a task group fed as tasks
/// finish), and returns the results in the order of `items`. Used to decode and analyse corpus
/// files in parallel without starting one task per file at once.
/// - Parameter jobs: concurrent calls, at least 1.
public func boundedConcurrentMap<Item: Sendable, Result: Sendable>(
    _ items: [Item], jobs: Int, _ transform: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
    await withTaskGroup(of: (Int, Result).self, returning: [Result].self) { group in
        var out = [Result?](repeating: nil, count: items.count)
        var next = 0
        func addNext() {
            guard next < items.count else { return }
            let index = next, item = items[index]
            next += 1
            group.addTask { (index, await transform(item)) }
        }
        for _ in 0..<max(1, jobs) { addNext() }
        while let (index, result) = await group.next() {
            out[index] = result
            addNext()
        }
        return out.map { $0! }
    }
}
