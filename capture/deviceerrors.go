package capture

// Errors finding the device, told apart: usbmuxd absent, no device at all, or not
// the device the user named. One message for all three sent users plugging in a
// phone that was already plugged in.

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// muxDialError explains a failed connection to usbmuxd at addr.
func muxDialError(addr string, err error) error {
	why := "it does not answer"
	switch {
	case errors.Is(err, fs.ErrNotExist):
		why = "no socket there"
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused"
	case errors.Is(err, fs.ErrPermission):
		// Running but out of reach is a different fix: permissions, not starting it.
		return fmt.Errorf("usbmuxd at %s: permission denied (run as a user allowed to use it): %w", addr, err)
	}
	return fmt.Errorf("%w at %s (%s): start it (e.g. 'systemctl start usbmuxd'; plugging a device in starts it on most systems), or point USBMUXD_SOCKET_ADDRESS or --usbmuxd at the running one",
		ErrNoUsbmuxd, addr, why)
}

// unknownUDID says that no connected device has udid, listing the ones that are.
func unknownUDID(udid string, devs []muxDevice) error {
	if len(devs) == 0 {
		return fmt.Errorf("%w: %s (%v)", ErrUnknownUDID, udid, ErrNoDevice)
	}
	ids := make([]string, len(devs))
	for i, d := range devs {
		ids[i] = d.udid
	}
	return fmt.Errorf("%w: %s; connected: %s", ErrUnknownUDID, udid, strings.Join(ids, ", "))
}
