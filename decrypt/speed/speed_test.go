package speed

import "testing"

func TestKernelsAgreeWithStdlib(t *testing.T) {
	if err := CheckCBC(); err != nil {
		t.Fatal(err)
	}
	if err := CheckKDF(); err != nil {
		t.Fatal(err)
	}
}

func TestMeasureRejectsBadSizes(t *testing.T) {
	for _, size := range []int{0, -16, 15, 100} {
		if _, err := MeasureCBC(CBCOurs, size, 0); err == nil {
			t.Errorf("MeasureCBC(size %d) accepted a size that is not whole blocks", size)
		}
	}
	if mbps, err := MeasureCBC(CBCStdlib, 4096, 0); err != nil || mbps <= 0 {
		t.Errorf("MeasureCBC(4096) = %v, %v; want a positive rate", mbps, err)
	}
}
