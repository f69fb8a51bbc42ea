#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Control of the BLAS library's own threads.
public enum BLASThreads {
    /// Sets how many threads OpenBLAS uses inside one call. Omnifin parallelises across calls itself (one batch
    /// per thread), where BLAS threads would only compete; the generic CBLAS interface has no such setting, so
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
}
