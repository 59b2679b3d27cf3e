package dev.gguf4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * mlock(2)/munlock(2) through the FFM linker (libc, no native library of ours): pins a model's weight pages
 * in RAM, as llama.cpp's {@code --mlock}. Linux and macOS; elsewhere locking reports that it is unsupported.
 */
public final class MemoryLock {
    private static final long PAGE = 4096;
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    private static final boolean MAC = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("mac");
    /** RLIMIT_MEMLOCK: 8 on Linux, 6 on macOS. */
    private static final int RLIMIT_MEMLOCK = LINUX ? 8 : 6;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final class Calls {
        static final MethodHandle MLOCK;
        static final MethodHandle MUNLOCK;
        static final MethodHandle GETRLIMIT;

        static {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            FunctionDescriptor lockDesc = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG);
            Linker.Option errno = Linker.Option.captureCallState("errno");
            MLOCK = linker.downcallHandle(libc.find("mlock").orElseThrow(), lockDesc, errno);
            MUNLOCK = linker.downcallHandle(libc.find("munlock").orElseThrow(), lockDesc);
            GETRLIMIT = linker.downcallHandle(libc.find("getrlimit").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        }
    }

    private MemoryLock() {
    }

    /** madvise(2) through the linker, looked up on first use (Linux only). */
    private static final class Advise {
        static final MethodHandle MADVISE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("madvise").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
    }

    /** MADV_POPULATE_READ (Linux 5.14). */
    private static final int MADV_POPULATE_READ = 22;

    /**
     * Maps the pages of {@code seg} (a file mapping) into the page tables in one madvise(MADV_POPULATE_READ) call,
     * reading them in where they are not cached, instead of one page fault per 64 KiB when the bytes are first
     * read: what a whole-file pass (quantize's conversions) saves in system time. A performance hint only: false,
     * and nothing changed, where the kernel is older than 5.14, not Linux, or the range is not a mapping.
     */
    public static boolean populate(MemorySegment seg) {
        if (!LINUX || seg.byteSize() == 0 || !seg.isNative()) {
            return false;
        }
        long start = seg.address() & -PAGE;
        long len = seg.address() + seg.byteSize() - start;
        try {
            return (int) Advise.MADVISE.invokeExact(MemorySegment.ofAddress(start), len, MADV_POPULATE_READ) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** A transparent huge page (x86-64, 2 MiB): segments to be advised ({@link #adviseHugePages}) are aligned to it. */
    public static final long HUGE_PAGE = 2L << 20;
    /**
     * {@code size} bytes from {@code arena}, aligned to {@link #HUGE_PAGE} and advised for huge pages
     * ({@link #adviseHugePages}) when at least one huge page large, else aligned to {@code align}: for weights that
     * generation streams (read without mmap, or repacked at load).
     */
    public static MemorySegment allocateForStreaming(java.lang.foreign.Arena arena, long size, long align) {
        if (size < HUGE_PAGE) {
            return arena.allocate(size, align);
        }
        if (LINUX) {
            MemorySegment mapped = mapHugePages(arena, size);
            if (mapped != null) {
                return mapped;
            }
        }
        MemorySegment seg = arena.allocate(size, HUGE_PAGE);
        adviseHugePages(seg);
        return seg;
    }

    /** PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS (Linux x86-64 and aarch64). */
    private static final int PROT_RW = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

    private static final class Map {
        static final MethodHandle MMAP = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        static final MethodHandle MUNMAP = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    /**
     * {@code size} bytes of fresh anonymous memory (mmap), 2 MiB aligned and advised for huge pages before anything
     * touches it, unmapped when {@code arena} closes; null where mmap refuses (the caller then allocates from the
     * arena). Unlike an arena allocation it is not zero-filled by a memset on 4 KiB pages first (anonymous memory
     * reads as zeros), so the first writes fault in huge pages directly: the load-time weight copies spent a third
     * of their time on that memset and the 4 KiB faults it took.
     */
    private static MemorySegment mapHugePages(java.lang.foreign.Arena arena, long size) {
        long len = size + HUGE_PAGE; // room to align the start
        MemorySegment base;
        try {
            base = (MemorySegment) Map.MMAP.invokeExact(MemorySegment.NULL, len, PROT_RW, MAP_PRIVATE_ANONYMOUS, -1,
                    0L);
        } catch (Throwable t) {
            return null;
        }
        if (base.address() == -1L || base.address() == 0L) { // MAP_FAILED
            return null;
        }
        long start = (base.address() + HUGE_PAGE - 1) & -HUGE_PAGE;
        long baseAddress = base.address();
        MemorySegment seg = MemorySegment.ofAddress(start).reinterpret(size, arena, ignored -> {
            try {
                int unmapped = (int) Map.MUNMAP.invokeExact(MemorySegment.ofAddress(baseAddress), len);
            } catch (Throwable t) {
                // nothing to do: the mapping stays until the process exits
            }
        });
        adviseWholePages(seg, MADV_HUGEPAGE);
        return seg;
    }

    /** MADV_HUGEPAGE (Linux). */
    private static final int MADV_HUGEPAGE = 14;
    /** MADV_DONTNEED (Linux). */
    private static final int MADV_DONTNEED = 4;

    /**
     * Asks for transparent huge pages on {@code seg} (anonymous memory; madvise(MADV_HUGEPAGE), which the kernel's
     * default "madvise" mode needs): the whole 2 MiB pages inside it are then backed by huge pages when they are
     * first written. Generation reads every weight once per token, and on 4 KiB pages the hardware prefetchers stop
     * at every page boundary: TinyLlama Q4_K_M tg128 at one thread on the Zen 4 machine ran at 32.8 tokens/s read into
     * memory on 4 KiB pages, see docs/benchmarks.md for huge pages. A performance hint only: false, and nothing
     * changed, where the kernel refuses it or this is not Linux. Only for memory the caller allocated and
     * has not written yet: its contents become zeros.
     */
    public static boolean adviseHugePages(MemorySegment seg) {
        if (!LINUX || seg.byteSize() == 0 || !seg.isNative()) {
            return false;
        }
        // the arena zero-filled seg on 4 KiB pages already: after the advice, give those back (anonymous memory
        // reads as zeros again) so that the first writes fault in huge pages
        return adviseWholePages(seg, MADV_HUGEPAGE) && adviseWholePages(seg, MADV_DONTNEED);
    }

    /**
     * madvise(advice) on the pages wholly inside {@code seg} (the partial pages at its ends may hold other data next
     * to it); false where there are none or the kernel refuses.
     */
    private static boolean adviseWholePages(MemorySegment seg, int advice) {
        long start = (seg.address() + PAGE - 1) & -PAGE;
        long end = (seg.address() + seg.byteSize()) & -PAGE;
        if (end <= start) {
            return false;
        }
        try {
            return (int) Advise.MADVISE.invokeExact(MemorySegment.ofAddress(start), end - start, advice) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Drops the pages wholly inside {@code seg}, a read-only file mapping whose bytes were copied elsewhere, from
     * this process (madvise(MADV_DONTNEED)): they leave its resident set (the kernel's page cache keeps the file
     * until it needs the memory) and come back from the file if read again, so this changes no content. A hint
     * only: false, and nothing changed, where the kernel refuses it or this is not Linux. Never for anonymous
     * memory (its contents would become zeros).
     */
    public static boolean release(MemorySegment seg) {
        if (!LINUX || !seg.isMapped() || seg.byteSize() == 0) {
            return false;
        }
        return adviseWholePages(seg, MADV_DONTNEED);
    }

    /** Whether this platform has mlock(2) here (Linux, macOS). */
    public static boolean supported() {
        return LINUX || MAC;
    }

    /**
     * Locks the pages of {@code seg} (a native segment: a mapping or off-heap memory) in RAM.
     *
     * @return empty when locked, else why not: errno, and for ENOMEM/EPERM/EAGAIN the RLIMIT_MEMLOCK soft and
     *         hard limits and how to raise them (the pages stay unlocked; nothing else changes)
     */
    public static Optional<String> lock(MemorySegment seg) {
        if (!supported()) {
            return Optional.of("mlock is not supported on " + System.getProperty("os.name"));
        }
        if (seg.byteSize() == 0) {
            return Optional.empty();
        }
        long start = seg.address() & -PAGE;
        long len = seg.address() + seg.byteSize() - start;
        int errno;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int rc = (int) Calls.MLOCK.invokeExact(state, MemorySegment.ofAddress(start), len);
            if (rc == 0) {
                return Optional.empty();
            }
            errno = (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            return Optional.of("mlock failed: " + t);
        }
        String name = switch (errno) {
            case 1 -> "EPERM";
            case 11, 35 -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 22 -> "EINVAL";
            default -> "errno " + errno;
        };
        StringBuilder msg = new StringBuilder(String.format(Locale.ROOT,
                "mlock of %,d bytes failed: %s (errno %d)", len, name, errno));
        long[] limit = memlockLimit();
        if (limit != null) {
            msg.append(String.format(Locale.ROOT, "; RLIMIT_MEMLOCK is %s (soft), %s (hard)", bytes(limit[0]),
                    bytes(limit[1])));
        }
        if (errno == 12 || errno == 1 || errno == 11 || errno == 35) {
            msg.append("; raise it (ulimit -l, or LimitMEMLOCK / memlock in limits.conf) or grant CAP_IPC_LOCK");
        }
        return Optional.of(msg.toString());
    }

    /** Unlocks what {@link #lock} locked (before the memory is unmapped or freed; harmless if never locked). */
    public static void unlock(MemorySegment seg) {
        if (!supported() || seg.byteSize() == 0) {
            return;
        }
        long start = seg.address() & -PAGE;
        long len = seg.address() + seg.byteSize() - start;
        try {
            int rc = (int) Calls.MUNLOCK.invokeExact(MemorySegment.ofAddress(start), len);
        } catch (Throwable t) {
            // nothing to do: unmapping or freeing the memory unlocks it anyway
        }
    }

    /** {soft, hard} RLIMIT_MEMLOCK in bytes (-1 = unlimited), or null if it cannot be read. */
    public static long[] memlockLimit() {
        if (!supported()) {
            return null;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(16, 8);
            int rc = (int) Calls.GETRLIMIT.invokeExact(RLIMIT_MEMLOCK, r);
            if (rc != 0) {
                return null;
            }
            return new long[] {r.get(ValueLayout.JAVA_LONG, 0), r.get(ValueLayout.JAVA_LONG, 8)};
        } catch (Throwable t) {
            return null;
        }
    }

    private static String bytes(long v) {
        // RLIM_INFINITY is all ones on Linux and macOS
        return v == -1 || v == Long.MAX_VALUE ? "unlimited" : String.format(Locale.ROOT, "%,d bytes", v);
    }
}
