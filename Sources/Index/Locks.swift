#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reader-writer lock that prefers writers, so a stream of searches cannot starve an insert.
/// Package-wide: the BM25 index and the knowledge bank in `Retrieval` use it too.
package final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    package init() {
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    @inline(__always)
    package func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    @inline(__always)
    package func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// A plain mutex.
final class PlainLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A fixed array of mutexes; node `i` is guarded by mutex `i & mask`. It gives per-node locking of the
/// neighbour lists without one mutex per node.
final class StripedLocks: @unchecked Sendable {
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>
    private let mask: Int

    init(stripes: Int = 4096) {
        precondition(stripes > 0 && stripes & (stripes - 1) == 0, "stripes must be a power of two")
        mutexes = .allocate(capacity: stripes)
        mask = stripes - 1
        for i in 0..<stripes { pthread_mutex_init(mutexes + i, nil) }
    }

    deinit {
        for i in 0...mask { pthread_mutex_destroy(mutexes + i) }
        mutexes.deallocate()
    }

    var memoryBytes: Int { (mask + 1) * MemoryLayout<pthread_mutex_t>.stride }

    @inline(__always) func lock(_ node: UInt32) { pthread_mutex_lock(mutexes + (Int(node) & mask)) }
    @inline(__always) func unlock(_ node: UInt32) { pthread_mutex_unlock(mutexes + (Int(node) & mask)) }
}
