package manifest

import (
	"os/exec"
	"syscall"
	"testing"
	"unsafe"
)

// limitedChild runs argv as it is: Windows has no ulimit (a Job object would be the
// way), so the peak working set the child reports is the bound checked here; the Linux
// run is the one that also keeps a regression from taking the machine's memory.
func limitedChild(argv ...string) *exec.Cmd { return exec.Command(argv[0], argv[1:]...) }

// processMemoryCounters is PROCESS_MEMORY_COUNTERS (psapi.h).
type processMemoryCounters struct {
	cb                         uint32
	pageFaultCount             uint32
	peakWorkingSetSize         uintptr
	workingSetSize             uintptr
	quotaPeakPagedPoolUsage    uintptr
	quotaPagedPoolUsage        uintptr
	quotaPeakNonPagedPoolUsage uintptr
	quotaNonPagedPoolUsage     uintptr
	pagefileUsage              uintptr
	peakPagefileUsage          uintptr
}

// vmHWM is this process's peak working set in KiB (K32GetProcessMemoryInfo), the
// Windows counterpart of Linux's VmHWM.
func vmHWM(t *testing.T) int64 {
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")
	self, _ := syscall.GetCurrentProcess()
	var c processMemoryCounters
	c.cb = uint32(unsafe.Sizeof(c))
	if ok, _, err := proc.Call(uintptr(self), uintptr(unsafe.Pointer(&c)), uintptr(c.cb)); ok == 0 {
		t.Fatalf("K32GetProcessMemoryInfo: %v", err)
	}
	return int64(c.peakWorkingSetSize >> 10)
}
