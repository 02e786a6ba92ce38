"""What the benchmark's Python peers report of their own process."""
import resource


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss, which
    Linux carries over from the parent across fork and exec: the benchmark
    that starts these scripts holds the test files in memory."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    """This process's user and system CPU time so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
