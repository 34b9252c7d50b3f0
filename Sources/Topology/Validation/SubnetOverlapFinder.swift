/// Finds every overlapping pair of IPv4 networks in DECNET's report order (i < j, by i then j) without comparing
/// all pairs.
///
/// CIDR blocks never partly overlap: two blocks overlap exactly when one contains the other. So the partners of a
/// network are the networks identical to it, its ancestors (at most one block per shorter prefix length, found by
/// masking) and its descendants (a contiguous run when blocks are sorted by first address, then prefix length).
/// The work is O(n log n + 32 n) plus a constant per reported pair, so a caller that stops early (the issue limit)
/// never pays for the quadratic number of pairs a hostile topology could produce.
struct SubnetOverlapFinder {
    private struct Block: Hashable {
        var first: UInt32
        var prefixLength: Int
    }

    private let networks: [IPv4Network]
    /// Positions of identical networks, ascending.
    private var groups: [[Int]] = []
    private var groupOf: [Int] = []
    private var groupByBlock: [Block: Int] = [:]
    /// Group ids sorted by (first address, prefix length), and each group's place in that order.
    private var sorted: [Int] = []
    private var rank: [Int] = []

    init(_ networks: [IPv4Network]) {
        self.networks = networks
        groupOf.reserveCapacity(networks.count)
        for (i, n) in networks.enumerated() {
            let block = Block(first: n.first, prefixLength: n.prefixLength)
            if let g = groupByBlock[block] {
                groups[g].append(i)
                groupOf.append(g)
            } else {
                groupByBlock[block] = groups.count
                groupOf.append(groups.count)
                groups.append([i])
            }
        }
        sorted = Array(groups.indices).sorted { a, b in
            let x = networks[groups[a][0]]
            let y = networks[groups[b][0]]
            return (x.first, x.prefixLength) < (y.first, y.prefixLength)
        }
        rank = [Int](repeating: 0, count: groups.count)
        for (r, g) in sorted.enumerated() { rank[g] = r }
    }

    /// Calls `body(i, j)` for each overlapping pair in order; `body` returns false to stop.
    func forEachOverlap(_ body: (Int, Int) -> Bool) {
        for i in networks.indices {
            let n = networks[i]
            let g = groupOf[i]
            var partners: [Int] = []
            appendLater(than: i, from: groups[g], to: &partners)
            for p in 0..<n.prefixLength {
                let ancestor = Block(first: n.first & IPv4Network.mask(p), prefixLength: p)
                if let a = groupByBlock[ancestor] { appendLater(than: i, from: groups[a], to: &partners) }
            }
            var r = rank[g] + 1
            while r < sorted.count {
                let d = sorted[r]
                guard networks[groups[d][0]].first <= n.last else { break }
                appendLater(than: i, from: groups[d], to: &partners)
                r += 1
            }
            partners.sort()
            for j in partners where !body(i, j) { return }
        }
    }

    /// Appends the members of an ascending list that are greater than `i`.
    private func appendLater(than i: Int, from members: [Int], to partners: inout [Int]) {
        var lo = 0
        var hi = members.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if members[mid] <= i { lo = mid + 1 } else { hi = mid }
        }
        partners.append(contentsOf: members[lo...])
    }
}
