package monitor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// readWorkers is how many capture files Read fetches at once.
const readWorkers = 8

// Dataset is the capture records read from a source within a time window.
type Dataset struct {
	// Source names where the files came from (Lister.String).
	Source string
	// Since is the start of the window (zero: no start).
	Since time.Time
	// Files are the capture files read, in key order.
	Files []string
	// Ignored are non-capture files found under the source's root.
	Ignored []string
	// Records are the records at or after Since, by inference time (then
	// file and line).
	Records []Record
	// Errors are the malformed lines, by file and line; the records on
	// the other lines were still read.
	Errors []ParseError
	// OutsideWindow counts the records read but dropped as before Since.
	OutsideWindow int
	// Listing is the Lister's account of the listing.
	Listing Listing
}

// ErrNoCaptures is wrapped by Read's error when there is nothing to
// report: no capture files, no line that parses, or no record in the
// window.
var ErrNoCaptures = errors.New("no capture records")

// Read lists the capture files in src that can hold records at or after
// since (zero: all), reads and parses them (several at a time), and keeps
// the records whose inference time is at or after since.
//
// Malformed lines do not stop Read: they are collected in Dataset.Errors,
// with file and line, for the summary to count and show. Read fails when
// a file cannot be listed or read, and when there is nothing to report:
// no capture file, no line that parses (the error quotes the first
// malformed lines), or no record in the window; those errors wrap
// ErrNoCaptures.
func Read(ctx context.Context, src Lister, since time.Time) (*Dataset, error) {
	listing, err := src.List(ctx, since)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Source: src.String(), Since: since, Files: listing.Keys, Ignored: listing.Ignored, Listing: *listing}
	window := ""
	if !since.IsZero() {
		window = " at or after " + since.UTC().Format(time.RFC3339)
	}
	if len(listing.Keys) == 0 {
		return nil, fmt.Errorf("%w: no capture files (*%s) under %s%s", ErrNoCaptures, CaptureExt, ds.Source, window)
	}

	type result struct {
		recs []Record
		errs []ParseError
	}
	results := make([]result, len(listing.Keys))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		next     = make(chan int)
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	for range min(readWorkers, len(listing.Keys)) {
		wg.Go(func() {
			for i := range next {
				recs, errs, err := readFile(ctx, src, listing.Keys[i])
				if err != nil {
					fail(err)
					continue
				}
				results[i] = result{recs, errs}
			}
		})
	}
feed:
	for i := range listing.Keys {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	parsed := 0
	for _, r := range results {
		parsed += len(r.recs)
		ds.Errors = append(ds.Errors, r.errs...)
		for _, rec := range r.recs {
			if !since.IsZero() && rec.Time.Before(since) {
				ds.OutsideWindow++
				continue
			}
			ds.Records = append(ds.Records, rec)
		}
	}
	sort.SliceStable(ds.Records, func(i, j int) bool { return ds.Records[i].Time.Before(ds.Records[j].Time) })

	switch {
	case parsed == 0 && len(ds.Errors) > 0:
		return nil, fmt.Errorf("%w: none of the %d non-blank lines in %d capture files under %s parses; first: %s",
			ErrNoCaptures, len(ds.Errors), len(ds.Files), ds.Source, firstErrors(ds.Errors, 3))
	case parsed == 0:
		return nil, fmt.Errorf("%w: the %d capture files under %s are empty", ErrNoCaptures, len(ds.Files), ds.Source)
	case len(ds.Records) == 0:
		return nil, fmt.Errorf("%w%s: the %d records in %d capture files under %s are all earlier", ErrNoCaptures, window, parsed, len(ds.Files), ds.Source)
	}
	return ds, nil
}

func readFile(ctx context.Context, src Lister, key string) ([]Record, []ParseError, error) {
	rc, err := src.Open(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	return Parse(rc, key) // its error names the key
}

// firstErrors joins the first n errors for a message.
func firstErrors(errs []ParseError, n int) string {
	s := ""
	for i, e := range errs {
		if i == n {
			s += fmt.Sprintf("; and %d more", len(errs)-n)
			break
		}
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

// ParseSince reads a --since value: an RFC 3339 time
// ("2025-10-04T08:30:00Z"), a date ("2025-10-04", midnight UTC), or a
// duration before now ("90m", "2h"). Empty means no window (the zero
// time).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration means that long ago and must not be negative", s)
		}
		return now.Add(-d).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2025-10-04T08:30:00Z), a date (2025-10-04) or a duration before now (90m)", s)
}
