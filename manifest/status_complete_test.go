package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// The shared samples' Status.plists, as real hosts wrote them, are complete; the
// same plist with another SnapshotState, or damaged, is not.
func TestCompleteOnSampleStatusPlists(t *testing.T) {
	paths, _ := filepath.Glob("/work/shared/samples/*/Status.plist")
	more, _ := filepath.Glob("/work/shared/samples/*/*/Status.plist")
	paths = append(paths, more...)
	if len(paths) == 0 {
		t.Fatal("no sample Status.plist found in /work/shared/samples")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := ParseStatus(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if st.Complete() != (st.SnapshotState == "finished") || StatusComplete(data) != st.Complete() {
			t.Errorf("%s: state %q, Complete %v", p, st.SnapshotState, st.Complete())
		}
		if StatusComplete(data[:len(data)/2]) {
			t.Errorf("%s: half a plist counted as complete", p)
		}
	}
	var none *Status
	if none.Complete() {
		t.Error("a missing Status.plist counted as complete")
	}
}
