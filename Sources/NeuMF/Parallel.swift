import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// A raw pointer that may cross into `concurrentPerform` workers.
///
/// Safe because every use follows one of two disciplines, stated where it is created:
/// disjoint ranges per worker (outputs, shards), or Hogwild updates of model parameters,
/// where concurrent unsynchronised Float writes are the documented algorithm (Niu et al. 2011)
/// and the buffer outlives the `concurrentPerform` call that uses it.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.base = buffer.baseAddress! }
}

/// Read-only counterpart of `SharedPointer`; the pointee is not written while workers run.
struct SharedReadPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
    init(_ base: UnsafePointer<T>) { self.base = base }
    init(_ buffer: UnsafeBufferPointer<T>) { self.base = buffer.baseAddress! }
}

/// Number of threads to use when the caller passes 0 ("all cores").
func resolvedThreadCount(_ requested: Int) -> Int {
    if requested > 0 { return requested }
    #if canImport(Glibc)
    let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    return max(1, n)
    #else
    return 2
    #endif
}

/// Runs `body(worker)` for `count` workers in parallel (inline when `count == 1`).
@inline(__always)
func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 {
        body(0)
    } else {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}

/// Runs `body` with subnormal results flushed to zero on this thread (x86 MXCSR FTZ and
/// DAZ), then restores the thread's floating-point environment (workers are pool threads
/// that run other code afterwards).
///
/// Why: with L2 regularisation some activations and back-propagated gradients sink into the
/// subnormal range, where each x86 multiply-add takes a microcode assist of ~100 cycles.
/// Measured on NCF ML-1M, NeuMF f = 8 with l2 1e-4: 16K instead of ~600K samples/s, 89% of
/// the time in the dense kernel. Values below 1.2e-38 carry nothing a model can use.
@inline(__always)
func withSubnormalsFlushed<R>(_ body: () -> R) -> R {
    #if canImport(Glibc) && arch(x86_64)
    var saved = fenv_t()
    fegetenv(&saved)
    var flushing = saved
    flushing.__mxcsr |= 0x8040 // FTZ (bit 15) | DAZ (bit 6)
    fesetenv(&flushing)
    defer { fesetenv(&saved) }
    #endif
    return body()
}

/// A 64-byte aligned Float buffer that asks the kernel for transparent huge pages when it is
/// large. Embedding rows and the scorer's item cache are read at random across hundreds of
/// MB: with 4 KiB pages nearly every row access also misses the TLB (a page walk before the
/// data miss), while 2 MiB pages cover the tables with a few hundred TLB entries. Needs THP
/// in `always` or `madvise` mode; elsewhere it is a plain aligned allocation.
final class AlignedFloats: @unchecked Sendable {
    // @unchecked: `base` is never reassigned; who writes the contents when is the owner's
    // discipline (disjoint ranges while filling, read-only or Hogwild after).
    let base: UnsafeMutablePointer<Float>
    let count: Int

    /// Uninitialised storage for `count` floats; callers initialise what they read.
    init(count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let huge = 2 << 20
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: bytes >= 4 * huge ? huge : 64)
        #if canImport(Glibc)
        if bytes >= 4 * huge {
            // Before first touch, so the page faults can map huge pages directly.
            _ = madvise(raw, (bytes / huge) * huge, 14 /* MADV_HUGEPAGE */)
        }
        #endif
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
