package manifest

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// Reading Manifest.db is split in three so that a million rows take seconds: one
// goroutine steps SQLite through the Files table (that cannot be split), GOMAXPROCS
// workers decode the `file` columns, and the caller's goroutine hands the entries to
// fn in table order. Rows travel in batches; a fixed number of batches circulates, so
// memory stays flat.
//
// The rows are fetched by an aggregate SQL function (filesScanFunc) rather than as
// result rows: SQLite hands it each row's values as views of its own memory, which it
// copies into the batch. Fetched as result rows, every column of every row is copied
// into a fresh Go allocation by the driver (750 MB of garbage for a million rows, most
// of the cost of the scan and of the garbage collector's work). When the function is
// missing (a *sql.DB from another driver instance), the rows are read the usual way.
const (
	batchRows      = 256
	batchBlobBytes = 256 << 10 // a batch also ends when its `file` columns reach this size
)

// span is a part of a batch buffer.
type span struct{ start, end int32 }

// dbRow is one row of the Files table as the scanner read it.
type dbRow struct {
	num         int    // 1-based, in table order
	skip        bool   // one of Apple's placeholder rows (flags 16, or every column NULL)
	missing     string // the NULL column of a row that is not a placeholder
	fileIDValid bool
	oversize    bool   // `file` longer than MaxMBFileSize: fileLen says how long
	domain      string // interned
	fileID      span   // in dbBatch.text
	path        span   // in dbBatch.text
	blob        span   // in dbBatch.blobs
	flags       int64
	fileLen     int64
}

type rowOutcome uint8

const (
	rowEntry   rowOutcome = iota // deliver entries[i]
	rowSkipped                   // a placeholder row: flags 16, or NULL columns
	rowBad                       // left out: drop says why (err too, for FirstBadFile)
	rowFatal                     // bad fileID: err stops the read
)

// rowResult is what a worker decided about a row; the caller applies it in order.
type rowResult struct {
	outcome                                 rowOutcome
	err                                     error
	drop                                    *DroppedRow // rowBad: what to report
	idMismatch, modeFromFlags, flagMismatch bool
}

type dbBatch struct {
	rows    []dbRow
	text    []byte      // fileIDs and paths
	blobs   []byte      // `file` columns
	entries []Entry     // entries[i] is rows[i] decoded (when results[i] says so)
	results []rowResult // one per row
	// err ends the read after these rows: a row whose columns could not be read
	// (errOnRow: it counts as a row) or the error that ended the query.
	err      error
	errOnRow bool
	last     bool
	done     chan struct{} // closed when a worker has decoded the batch
}

func (b *dbBatch) str(s span) string { return string(b.text[s.start:s.end]) }

// name names row r in errors, as ReadDB always has.
func (b *dbBatch) name(r *dbRow) string {
	return fmt.Sprintf("Manifest.db row %d (fileID %q, domain %q, path %q)", r.num, clip(b.str(r.fileID)), clip(r.domain), clip(b.str(r.path)))
}

// full reports whether the batch should be sent on.
func (b *dbBatch) full() bool { return len(b.rows) >= batchRows || len(b.blobs) >= batchBlobBytes }

// addText copies s into the batch.
func (b *dbBatch) addText(s string) span {
	start := len(b.text)
	b.text = append(b.text, s...)
	return span{int32(start), int32(len(b.text))}
}

type dbPipeline struct {
	ctx      context.Context
	db       queryer
	work     chan *dbBatch // scanner -> workers
	ordered  chan *dbBatch // scanner -> caller, in table order
	free     chan *dbBatch // caller -> scanner, for reuse
	quit     chan struct{}
	quitOnce sync.Once
	wg       sync.WaitGroup
	inFlight int

	// Scanner state.
	made    int               // batches allocated so far
	cur     *dbBatch          // the batch being filled
	n       int               // rows read so far
	domains map[string]string // interned domain names
	rowErr  error             // a row whose columns could not be read (stops the scan)
}

// newDBPipeline starts reading the Files table of db in the background.
func newDBPipeline(ctx context.Context, db queryer) *dbPipeline {
	workers := runtime.GOMAXPROCS(0)
	inFlight := 2*workers + 2
	p := &dbPipeline{
		ctx:      ctx,
		db:       db,
		work:     make(chan *dbBatch, inFlight),
		ordered:  make(chan *dbBatch, inFlight),
		free:     make(chan *dbBatch, inFlight),
		quit:     make(chan struct{}),
		inFlight: inFlight,
		domains:  make(map[string]string),
	}
	p.wg.Add(workers + 1)
	for range workers {
		go p.worker()
	}
	go p.scan()
	return p
}

// next returns the next batch in table order, decoded; false after the last one.
func (p *dbPipeline) next() (*dbBatch, bool) {
	b, ok := <-p.ordered
	if !ok {
		return nil, false
	}
	<-b.done
	return b, true
}

// release hands a batch the caller is done with back to the scanner.
func (p *dbPipeline) release(b *dbBatch) {
	select {
	case p.free <- b:
	default: // cannot happen (free has room for every batch); drop it rather than block
	}
}

// stop ends the read early or late, and returns once no goroutine of the pipeline
// runs any more: the query is over by then.
func (p *dbPipeline) stop() {
	p.quitOnce.Do(func() { close(p.quit) })
	p.wg.Wait()
}

func (p *dbPipeline) stopped() bool {
	select {
	case <-p.quit:
		return true
	default:
		return false
	}
}

// batch returns an empty batch, waiting for one to come back if all are in use; nil
// when the read was stopped.
func (p *dbPipeline) batch() *dbBatch {
	var b *dbBatch
	select {
	case b = <-p.free:
	default:
		if p.made < p.inFlight {
			p.made++
			b = new(dbBatch)
			break
		}
		select {
		case b = <-p.free:
		case <-p.quit:
			return nil
		}
	}
	b.rows, b.text, b.blobs = b.rows[:0], b.text[:0], b.blobs[:0]
	b.err, b.errOnRow, b.last = nil, false, false
	b.done = make(chan struct{})
	return b
}

// send passes the current batch to the workers and the caller.
func (p *dbPipeline) send() {
	// Both channels have room for every batch there is: these sends do not block.
	p.ordered <- p.cur
	p.work <- p.cur
	p.cur = nil
}

// errStopped aborts the scanning query when the caller has stopped reading.
var errStopped = errors.New("read stopped")

// filesQuery reads every row once. The `file` blob is only fetched when its length is
// within MaxMBFileSize, so that a hostile row cannot make SQLite load a huge value;
// its length tells a NULL blob (skipped) from an oversized one (reported). The text
// columns are not bounded one by one here: that cost a tenth of the read's time, and
// what SQLite may build for them is bounded by limitConn (see dbguard.go).
const filesQuery = `SELECT fileID, domain, relativePath, flags,
	CASE WHEN length(file) <= ? THEN file END, length(file)
	FROM Files`

// filesScanQuery feeds the same rows to filesScanFunc: ?1 names the pipeline, and the
// last argument is length(file) only for an oversized `file` (NULL otherwise, so that
// it costs nothing).
const filesScanQuery = `SELECT ` + filesScanFunc + `(?1, fileID, domain, relativePath, flags,
	CASE WHEN length(file) <= ?2 THEN file END,
	CASE WHEN length(file) > ?2 THEN length(file) END)
	FROM Files`

// filesScanFunc is the aggregate SQL function that receives the rows. It is
// registered with the "sqlite" driver when this package is loaded, so every
// connection opened afterwards has it.
const filesScanFunc = "iosbackup_manifest_files"

var (
	// filesScanRegistered is false when the name was taken: reads fall back to rows.
	filesScanRegistered = sqlite.RegisterFunction(filesScanFunc, &sqlite.FunctionImpl{
		NArgs:         7,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return new(filesScan), nil },
		// The text and blob arguments are views of SQLite's memory, valid during
		// one Step: addRow copies what it keeps.
		VolatileArgs: true,
	}) == nil
	// filesScans are the pipelines reading now; ?1 of filesScanQuery is an index into
	// it plus one. A number below 256 costs the driver no allocation per row (a string
	// would cost 16 bytes each time).
	filesScans struct {
		sync.Mutex
		p [255]*dbPipeline
	}
	// forceRowScan makes the pipeline read result rows (tests of the fallback).
	forceRowScan bool
)

// filesScan is one running invocation of filesScanFunc.
type filesScan struct{ p *dbPipeline }

func (s *filesScan) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if s.p == nil {
		slot, _ := args[0].(int64)
		filesScans.Lock()
		if slot >= 1 && slot <= int64(len(filesScans.p)) {
			s.p = filesScans.p[slot-1]
		}
		filesScans.Unlock()
		if s.p == nil {
			return fmt.Errorf("%s: no read %v", filesScanFunc, args[0])
		}
	}
	return s.p.addRow(args[1], args[2], args[3], args[4], args[5], args[6])
}

func (s *filesScan) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("%s is not a window function", filesScanFunc)
}

func (s *filesScan) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return nil, nil }

func (s *filesScan) Final(*sqlite.FunctionContext) {}

// scan reads the table into batches, then marks the last one.
func (p *dbPipeline) scan() {
	defer p.wg.Done()
	defer close(p.ordered)
	defer close(p.work)
	var err error
	var slot int64
	if !forceRowScan {
		slot = claimFilesScanSlot(p)
	}
	if slot > 0 {
		err = p.scanWithFunc(slot)
		releaseFilesScanSlot(slot)
		if err != nil && p.n == 0 && strings.Contains(err.Error(), "no such function") {
			err = p.scanRows() // a connection without filesScanFunc
		}
	} else {
		err = p.scanRows()
	}
	if p.stopped() {
		return
	}
	if p.cur == nil {
		if p.cur = p.batch(); p.cur == nil {
			return
		}
	}
	switch {
	case p.rowErr != nil:
		p.cur.err, p.cur.errOnRow = p.rowErr, true
	case err == nil:
	case p.ctx.Err() != nil: // the query ends with an interruption: say why
		p.cur.err = fmt.Errorf("Manifest.db: after row %d: %w", p.n, p.ctx.Err())
	case p.n == 0:
		p.cur.err = fmt.Errorf("Manifest.db: query Files: %w", tooBig(err))
	default:
		p.cur.err = fmt.Errorf("Manifest.db: after row %d: %w", p.n, tooBig(err))
	}
	p.cur.last = true
	p.send()
}

// claimFilesScanSlot registers p for filesScanFunc; 0 when that cannot be done (the
// function is not registered, or 255 reads are running): then rows are read.
func claimFilesScanSlot(p *dbPipeline) int64 {
	if !filesScanRegistered {
		return 0
	}
	filesScans.Lock()
	defer filesScans.Unlock()
	for i, q := range filesScans.p {
		if q == nil {
			filesScans.p[i] = p
			return int64(i + 1)
		}
	}
	return 0
}

func releaseFilesScanSlot(slot int64) {
	filesScans.Lock()
	filesScans.p[slot-1] = nil
	filesScans.Unlock()
}

// scanWithFunc runs filesScanQuery: SQLite calls addRow for each row.
func (p *dbPipeline) scanWithFunc(slot int64) error {
	var ignored any
	err := p.db.QueryRowContext(p.ctx, filesScanQuery, slot, MaxMBFileSize).Scan(&ignored)
	if p.rowErr != nil || p.stopped() {
		return nil // addRow aborted the query on purpose
	}
	return err
}

// scanRows reads filesQuery's result rows and hands each to addRow.
func (p *dbPipeline) scanRows() error {
	rows, err := p.db.QueryContext(p.ctx, filesQuery, MaxMBFileSize)
	if err != nil {
		return err
	}
	defer rows.Close()
	var fileID, domain, relPath, flags, file, fileLen any
	for rows.Next() {
		if err := rows.Scan(&fileID, &domain, &relPath, &flags, &file, &fileLen); err != nil {
			return err
		}
		var oversize any
		if n, ok := fileLen.(int64); ok && n > MaxMBFileSize {
			oversize = n
		}
		if err := p.addRow(fileID, domain, relPath, flags, file, oversize); err != nil {
			return nil // addRow stopped the read: it says why
		}
	}
	return rows.Err()
}

// addRow copies one row into the current batch, sending the batch on when it is full.
// The arguments are the row's values as SQLite has them (string, []byte, int64,
// float64 or nil); oversize is length(file) when that is over MaxMBFileSize, else nil.
// Their conversions are those of Rows.Scan into the types ReadDB has always used, so
// that unusual column types read exactly as before.
func (p *dbPipeline) addRow(fileID, domain, relPath, flags, file, oversize any) error {
	if p.cur == nil {
		if p.cur = p.batch(); p.cur == nil {
			return errStopped
		}
	}
	p.n++
	b := p.cur
	r := dbRow{num: p.n}
	flagsValid := flags != nil
	switch v := flags.(type) {
	case nil:
	case int64:
		r.flags = v
	default:
		var n sql.NullInt64
		if err := n.Scan(v); err != nil {
			p.rowErr = fmt.Errorf("Manifest.db: row %d: sql: Scan error on column index 3, name \"flags\": %w", p.n, err)
			return p.rowErr
		}
		r.flags = n.Int64
	}
	fileIsNull := file == nil && oversize == nil
	if (flagsValid && r.flags == flagsNullRow) || (domain == nil && relPath == nil && fileIsNull) {
		r.skip = true
		b.rows = append(b.rows, r)
		return p.sendIfFull()
	}
	switch {
	case domain == nil:
		r.missing = "domain"
	case relPath == nil:
		r.missing = "relativePath"
	case fileIsNull:
		r.missing = "file"
	}
	d := asText(domain)
	interned, ok := p.domains[d]
	if !ok {
		interned = strings.Clone(d)
		p.domains[interned] = interned
	}
	r.domain = interned
	r.fileIDValid = fileID != nil
	r.fileID = b.addText(asText(fileID))
	r.path = b.addText(asText(relPath))
	if n, ok := oversize.(int64); ok {
		r.oversize, r.fileLen = true, n
	} else if r.missing == "" {
		start := len(b.blobs)
		switch v := file.(type) {
		case []byte:
			b.blobs = append(b.blobs, v...)
		case string:
			b.blobs = append(b.blobs, v...)
		default: // a number where the blob should be: the bytes Rows.Scan gives
			var raw sql.Null[[]byte]
			if err := raw.Scan(v); err == nil {
				b.blobs = append(b.blobs, raw.V...)
			}
		}
		r.blob = span{int32(start), int32(len(b.blobs))}
	}
	b.rows = append(b.rows, r)
	return p.sendIfFull()
}

func (p *dbPipeline) sendIfFull() error {
	if p.cur.full() {
		p.send()
	}
	if p.stopped() {
		return errStopped
	}
	return nil
}

// asText converts a text column's value as Rows.Scan into a sql.NullString does
// (nil gives ""). A string is returned as it is: it may be a view of SQLite's memory.
func asText(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		return s
	}
	var ns sql.NullString
	ns.Scan(v) // cannot fail for the types SQLite returns
	return ns.String
}

func (p *dbPipeline) worker() {
	defer p.wg.Done()
	dec := mbDecoder{mem: new(byteArena)} // this worker's: no locking
	for b := range p.work {
		if !p.stopped() { // else nobody will read this batch
			decodeBatch(b, &dec)
		}
		close(b.done)
	}
}

// decodeBatch turns each row of b into an entry and the verdict ReadDBContext applies.
func decodeBatch(b *dbBatch, dec *mbDecoder) {
	n := len(b.rows)
	if cap(b.entries) < n {
		b.entries = make([]Entry, n, max(n, batchRows))
		b.results = make([]rowResult, n, max(n, batchRows))
	}
	b.entries, b.results = b.entries[:n], b.results[:n]
	for i := range b.rows {
		r, res, e := &b.rows[i], &b.results[i], &b.entries[i]
		*res = rowResult{}
		if r.skip {
			res.outcome = rowSkipped
			continue
		}
		if r.missing != "" {
			setBad(b, r, res, DropMissing, fmt.Errorf("%s is NULL", r.missing))
			continue
		}
		if !r.fileIDValid {
			res.outcome, res.err = rowFatal, fmt.Errorf("%s: fileID is NULL", b.name(r))
			continue
		}
		id, ok := parseFileIDHex(b.text[r.fileID.start:r.fileID.end])
		if !ok {
			_, err := ParseFileID(b.str(r.fileID)) // for its message
			res.outcome, res.err = rowFatal, fmt.Errorf("%s: %w", b.name(r), err)
			continue
		}
		*e = Entry{Domain: r.domain, Path: dec.mem.stringOf(b.text[r.path.start:r.path.end]), ID: id}
		res.idMismatch = id != fileIDOf(e.Domain, e.Path)
		if reason, err := decodeRowFile(r, b.blobs, e, dec, res); err != nil {
			setBad(b, r, res, reason, err)
		}
	}
}

// setBad marks row r as left out for reason, with err saying why.
func setBad(b *dbBatch, r *dbRow, res *rowResult, reason DropReason, err error) {
	res.outcome, res.err = rowBad, fmt.Errorf("%s: %w", b.name(r), err)
	res.drop = &DroppedRow{Reason: reason, Row: r.num, Domain: clip(r.domain), Path: clip(b.str(r.path)),
		FileID: clip(b.str(r.fileID)), Detail: err.Error()}
}

// decodeRowFile decodes the `file` column into e and settles its type against flags.
func decodeRowFile(r *dbRow, blobs []byte, e *Entry, dec *mbDecoder, res *rowResult) (DropReason, error) {
	if r.oversize {
		return DropTooLong, fmt.Errorf("file column is %d bytes, more than the %d allowed", r.fileLen, MaxMBFileSize)
	}
	if err := decodeMBFileWith(blobs[r.blob.start:r.blob.end], e, dec); err != nil {
		return DropUnreadable, err
	}
	flagKind := kindFromFlags(r.flags)
	switch {
	case e.Kind == 0 && flagKind == 0:
		return DropNoType, fmt.Errorf("mode %#o and flags %d name no file, directory or symlink", e.Mode, r.flags)
	case e.Kind == 0:
		e.Kind = flagKind
		e.Mode = e.Mode&^0o170000 | modeTypeBits(flagKind)
		res.modeFromFlags = true
	case e.Kind != flagKind:
		res.flagMismatch = true
	}
	return 0, nil
}

// parseFileIDHex is ParseFileID without its allocations; false where it errs.
func parseFileIDHex(s []byte) (id FileID, ok bool) {
	if len(s) != 2*len(id) {
		return id, false
	}
	_, err := hex.Decode(id[:], s)
	return id, err == nil
}

// fileIDOf is ComputeFileID hashing from a stack buffer when the name fits.
func fileIDOf(domain, path string) FileID {
	var buf [512]byte
	if len(domain)+1+len(path) > len(buf) {
		return ComputeFileID(domain, path)
	}
	b := append(append(append(buf[:0], domain...), '-'), path...)
	return FileID(sha1.Sum(b))
}
