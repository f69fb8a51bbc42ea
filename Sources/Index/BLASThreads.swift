#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Control of the BLAS library's own threads.
///
/// Omnifin parallelises across BLAS calls itself (one batch, one insert or one query per thread). OpenBLAS would
/// otherwise start as many threads as cores inside each call, and on 2 cores they fight Omnifin's own: the 100k index
/// build took 87 s instead of 32 s. So every process that uses the index or the encoder runs OpenBLAS with one
/// thread per call: `omnifin` sets it before any command runs, and the index and the encoder make sure of it when
/// they are created (tests and other embedders of the library). `OPENBLAS_NUM_THREADS` is not honoured: no command
/// gains from BLAS threads.
public enum BLASThreads {
    /// One thread per BLAS call, set once per process (later calls are free).
    public static func ensureOnePerCall() {
        _ = once
    }

    private static let once: Void = { setCount(1) }()

    /// Sets how many threads OpenBLAS uses inside one call. The generic CBLAS interface has no such setting, so
    /// OpenBLAS's is looked up at run time.
    ///
    /// - Returns: `false` when the BLAS behind `libblas.so.3` is not OpenBLAS (nothing is changed then).
    @discardableResult
    public static func setCount(_ count: Int) -> Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_set_num_threads") else { return false }
        typealias SetThreads = @convention(c) (Int32) -> Void
        unsafeBitCast(symbol, to: SetThreads.self)(Int32(max(1, count)))
        return true
    }

    /// The threads OpenBLAS uses inside one call, or `nil` when the BLAS is not OpenBLAS.
    public static var count: Int? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_get_num_threads") else { return nil }
        typealias GetThreads = @convention(c) () -> Int32
        return Int(unsafeBitCast(symbol, to: GetThreads.self)())
    }
}
