package capture

// DeviceLink is the message layer mobilebackup2 speaks: every message is a uint32
// big-endian length followed by a property list (binary or XML) that is an array whose
// first element names the message. File contents travel outside those messages, as raw
// length-prefixed streams (see readUploadStream and writeDownloadStream).
//
// Everything here reads hostile input: lengths are bounded before anything is
// allocated, and no input can make it panic.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"syscall"

	"howett.net/plist"
)

const (
	// maxMessageSize bounds one DeviceLink plist. The largest real ones are file lists
	// of a whole backup (tens of MB in binary form for a million files).
	maxMessageSize = 128 << 20
	// maxNameLen bounds a path in the file streams (libimobiledevice uses the same).
	maxNameLen = 4096
	// maxBlockLen bounds one data block of the upload stream. Devices send 32 KiB to a
	// few MB; anything near 4 GiB is corrupt framing, not data.
	maxBlockLen = 256 << 20
	// maxNoteLen bounds the text that ends a file in the upload stream.
	maxNoteLen = 64 << 10
	// downloadBlockLen is the largest data block the host sends: larger blocks get the
	// device's backup agent killed on big Manifest.db files.
	downloadBlockLen = 32 << 10

	// emptyParam is what DeviceLink puts where a parameter is absent.
	emptyParam = "___EmptyParameterString___"
)

// Codes that prefix the blocks of the file streams.
const (
	blockSuccess     = 0x00 // end of file, success
	blockLocalError  = 0x06 // end of file, error text follows
	blockRemoteError = 0x0B // end of file with a text; an error only when no data came
	blockData        = 0x0C // n-1 bytes of file data follow
)

// dlMessage is one decoded DeviceLink message.
type dlMessage []any

// name is the message's name ("" when the first element is not a string).
func (m dlMessage) name() string {
	if len(m) == 0 {
		return ""
	}
	s, _ := m[0].(string)
	return s
}

func (m dlMessage) at(i int) any {
	if i < 0 || i >= len(m) {
		return nil
	}
	return m[i]
}

// stringAt returns element i when it is a string other than the empty marker.
func (m dlMessage) stringAt(i int) (string, bool) {
	s, ok := m.at(i).(string)
	if !ok || s == emptyParam {
		return "", false
	}
	return s, true
}

// stringsAt returns element i as a list of strings; non-string items are an error,
// because silently skipping a path the device asked for would lose data.
func (m dlMessage) stringsAt(i int) ([]string, error) {
	arr, ok := m.at(i).([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: element %d is not a list", ErrProtocol, m.name(), i)
	}
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s: list holds a %T, not a path", ErrProtocol, m.name(), v)
		}
		out = append(out, s)
	}
	return out, nil
}

// dictAt returns element i as a dictionary.
func (m dlMessage) dictAt(i int) (map[string]any, bool) {
	d, ok := m.at(i).(map[string]any)
	return d, ok
}

// numberAt returns element i as a float64 whatever numeric type carried it.
func (m dlMessage) numberAt(i int) (float64, bool) {
	return toFloat(m.at(i))
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case float32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// toInt64 reads an integer field; uint64 values above MaxInt64 are negative numbers
// sent as their two's complement, as DeviceLink does for error codes.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case uint64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// readFrame reads one length-prefixed frame. Memory grows with the bytes actually
// received, so a lying length costs nothing until the data arrives.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxMessageSize {
		return nil, fmt.Errorf("%w: message length %d", ErrProtocol, n)
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// readMessage reads and decodes one DeviceLink message.
func readMessage(r io.Reader) (dlMessage, error) {
	data, err := readFrame(r)
	if err != nil {
		return nil, err
	}
	return decodeMessage(data)
}

// decodeMessage decodes a message body: a plist array whose first element is a string.
func decodeMessage(data []byte) (dlMessage, error) {
	var v any
	if _, err := plist.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: undecodable message: %v", ErrProtocol, err)
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("%w: message is a %T, not a list", ErrProtocol, v)
	}
	if _, ok := arr[0].(string); !ok {
		return nil, fmt.Errorf("%w: message name is a %T", ErrProtocol, arr[0])
	}
	return dlMessage(arr), nil
}

// encodeMessage encodes a message as a binary plist with its length prefix.
func encodeMessage(msg []any) ([]byte, error) {
	body, err := plist.Marshal(msg, plist.BinaryFormat)
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", msg[0], err)
	}
	out := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	return append(out, body...), nil
}

// writeMessage sends one message in a single write, so a cancellation that closes the
// connection never leaves half a header behind a whole one.
func writeMessage(w io.Writer, msg ...any) error {
	b, err := encodeMessage(msg)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// processMessage wraps a request dictionary the way mobilebackup2 expects it.
func processMessage(d map[string]any) []any {
	return []any{"DLMessageProcessMessage", d}
}

// statusResponse is the host's answer to a device request. Negative codes travel as
// their unsigned two's complement, which is what devices and libimobiledevice send.
func statusResponse(code int64, desc string, value any) []any {
	var c any = uint64(code)
	if desc == "" {
		desc = emptyParam
	}
	if value == nil {
		value = emptyParam
	}
	return []any{"DLMessageStatusResponse", c, desc, value}
}

// Device-side error numbers the host reports in status responses.
const (
	dlErrGeneric  = -1
	dlErrNotFound = -6
	dlErrExists   = -7
	dlErrNotDir   = -8
	dlErrIsDir    = -9
	dlErrLoop     = -10
	dlErrIO       = -11
	dlErrNoSpace  = -15
	dlMultiStatus = -13
)

// errnoCode maps a host file error to the number the device understands.
func errnoCode(err error) int64 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, fs.ErrNotExist):
		return dlErrNotFound
	case errors.Is(err, fs.ErrExist):
		return dlErrExists
	case errors.Is(err, syscall.ENOTDIR):
		return dlErrNotDir
	case errors.Is(err, syscall.EISDIR):
		return dlErrIsDir
	case errors.Is(err, syscall.ELOOP):
		return dlErrLoop
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, ErrDiskFull):
		return dlErrNoSpace
	case errors.Is(err, syscall.EIO):
		return dlErrIO
	}
	return dlErrGeneric
}

// uploadSink receives the files of an upload stream. Paths are passed raw: the sink
// decides whether they are acceptable.
type uploadSink interface {
	// beginFile starts a file; an error aborts the whole stream (the framing is still
	// intact, but a host that refuses a path must not keep talking to that device).
	beginFile(devicePath, hostPath string) error
	// writeData appends data to the current file.
	writeData(p []byte) error
	// endFile finishes the current file: ok false discards it; note is the device's
	// text, if any.
	endFile(ok bool, note string) error
	// abortFile discards the current file when the stream itself broke (the
	// connection closed, Ctrl-C, bad framing): not something the device reported.
	abortFile()
}

// uploadStats counts what one upload stream carried.
type uploadStats struct {
	Files     int   // files committed
	Failed    int   // files the device could not send
	DataBytes int64 // file data bytes
}

// readUploadStream parses the device->host file stream that follows
// DLMessageUploadFiles, until its terminating zero length:
//
//	repeat { u32 len, device path (informational; len 0 ends the stream);
//	         u32 len, host path;
//	         blocks: u32 n, code byte, n-1 bytes (0x0C data, then 0x00 success,
//	                 0x0B end-with-text, 0x06 error) }
func readUploadStream(r io.Reader, sink uploadSink) (uploadStats, error) {
	var st uploadStats
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	buf := make([]byte, 32<<10)
	for {
		devPath, end, err := readName(br)
		if err != nil {
			return st, fmt.Errorf("upload stream: device path: %w", err)
		}
		if end {
			return st, nil
		}
		hostPath, end, err := readName(br)
		if err != nil {
			return st, fmt.Errorf("upload stream: host path of %q: %w", devPath, err)
		}
		if end {
			// libimobiledevice also treats this as the end; nothing was opened yet.
			return st, nil
		}
		if err := sink.beginFile(devPath, hostPath); err != nil {
			return st, err
		}
		gotData := false
		for {
			n, code, err := readBlockHeader(br)
			if err != nil {
				sink.abortFile()
				return st, fmt.Errorf("upload stream: %s: %w", hostPath, err)
			}
			payload := int64(n) - 1
			if code == blockData {
				if n > maxBlockLen {
					sink.abortFile()
					return st, fmt.Errorf("%w: upload stream: %s: block of %d bytes", ErrProtocol, hostPath, n)
				}
				for payload > 0 {
					k := min(int64(len(buf)), payload)
					if _, err := io.ReadFull(br, buf[:k]); err != nil {
						sink.abortFile()
						return st, fmt.Errorf("upload stream: %s: %w", hostPath, unexpected(err))
					}
					if err := sink.writeData(buf[:k]); err != nil {
						sink.abortFile()
						return st, err
					}
					st.DataBytes += k
					payload -= k
				}
				gotData = true
				continue
			}
			if payload > maxNoteLen {
				sink.abortFile()
				return st, fmt.Errorf("%w: upload stream: %s: end text of %d bytes", ErrProtocol, hostPath, payload)
			}
			note := make([]byte, payload)
			if _, err := io.ReadFull(br, note); err != nil {
				sink.abortFile()
				return st, fmt.Errorf("upload stream: %s: %w", hostPath, unexpected(err))
			}
			var ok bool
			switch code {
			case blockSuccess:
				ok = true
			case blockRemoteError:
				// After data this only ends the file with a remark; before any data the
				// device is telling us it could not read the file.
				ok = gotData
			case blockLocalError:
				ok = false
			default:
				sink.abortFile()
				return st, fmt.Errorf("%w: upload stream: %s: unknown block code 0x%02x", ErrProtocol, hostPath, code)
			}
			if err := sink.endFile(ok, string(note)); err != nil {
				return st, err
			}
			if ok {
				st.Files++
			} else {
				st.Failed++
			}
			break
		}
	}
}

// readName reads a u32 length and that many bytes; length 0 reports the end.
func readName(r io.Reader) (string, bool, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", false, unexpected(err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return "", true, nil
	}
	if n > maxNameLen {
		return "", false, fmt.Errorf("%w: name of %d bytes", ErrProtocol, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", false, unexpected(err)
	}
	return string(b), false, nil
}

// readBlockHeader reads a block's u32 length (code byte included) and its code.
func readBlockHeader(r io.Reader) (uint32, byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return 0, 0, unexpected(err)
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n == 0 {
		return 0, 0, fmt.Errorf("%w: empty block", ErrProtocol)
	}
	if _, err := io.ReadFull(r, hdr[4:]); err != nil {
		return 0, 0, unexpected(err)
	}
	return n, hdr[4], nil
}

// unexpected turns a clean EOF inside a structure into ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fileOpener opens a host file the device asked for.
type fileOpener func(path string) (io.ReadCloser, error)

// writeDownloadStream sends the files the device asked for with DLMessageDownloadFiles
// and returns the per-file errors for the status response that follows (nil when
// every file was sent). A write error ends the stream: the connection is then unusable.
// onData, if set, is told how many bytes were sent.
func writeDownloadStream(w io.Writer, paths []string, open fileOpener, onData func(int)) (map[string]any, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var errs map[string]any
	buf := make([]byte, 5+downloadBlockLen)
	for _, p := range paths {
		if len(p) > maxNameLen {
			return errs, fmt.Errorf("%w: download path of %d bytes", ErrProtocol, len(p))
		}
		if err := writeName(bw, p); err != nil {
			return errs, err
		}
		ferr := sendFile(bw, p, open, buf, onData)
		if ferr != nil {
			var werr *writeError
			if errors.As(ferr, &werr) {
				return errs, werr.err
			}
			if errs == nil {
				errs = map[string]any{}
			}
			msg := ferr.Error()
			errs[p] = map[string]any{"DLFileErrorCode": uint64(errnoCode(ferr)), "DLFileErrorString": msg}
			if len(msg) > maxNoteLen {
				msg = msg[:maxNoteLen]
			}
			if err := writeBlock(bw, blockLocalError, []byte(msg)); err != nil {
				return errs, err
			}
			continue
		}
		if err := writeBlock(bw, blockSuccess, nil); err != nil {
			return errs, err
		}
	}
	var zero [4]byte
	if _, err := bw.Write(zero[:]); err != nil {
		return errs, err
	}
	return errs, bw.Flush()
}

// writeError marks a failure of the connection, as opposed to one of the file.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// sendFile streams one file's data blocks; file errors are returned plain, connection
// errors as *writeError.
func sendFile(w *bufio.Writer, p string, open fileOpener, buf []byte, onData func(int)) error {
	f, err := open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		n, rerr := io.ReadFull(f, buf[5:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf[:4], uint32(n+1))
			buf[4] = blockData
			if _, err := w.Write(buf[:5+n]); err != nil {
				return &writeError{err}
			}
			if onData != nil {
				onData(n)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return nil
		}
		if rerr != nil {
			// Data already sent cannot be taken back; the error block that follows
			// tells the device this file is incomplete.
			return fmt.Errorf("read %s: %w", p, rerr)
		}
	}
}

func writeName(w io.Writer, s string) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(s)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := io.WriteString(w, s)
	return err
}

func writeBlock(w io.Writer, code byte, payload []byte) error {
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)+1))
	hdr[4] = code
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}
