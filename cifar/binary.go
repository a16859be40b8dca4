package cifar

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeBinary reads one binary-version file (train.bin or test.bin) of size
// bytes from r and calls fn for each record, in row order. size must be a
// multiple of RecordBytes (3,074); pass -1 when it is unknown, and a partial
// last record is then reported when it is reached. File names are made from
// meta's fine label names (see Record.Filename). It returns the number of
// records passed to fn.
func DecodeBinary(ctx context.Context, r io.Reader, size int64, split string, meta Meta, fn func(Record) error) (int, error) {
	if size >= 0 && size%RecordBytes != 0 {
		return 0, fmt.Errorf("binary %s: size %d is not a multiple of the %d-byte record size (%d records and %d bytes left over)",
			split, size, RecordBytes, size/RecordBytes, size%RecordBytes)
	}
	nFine, nCoarse := len(meta.FineLabelNames), len(meta.CoarseLabelNames)
	if nFine == 0 {
		nFine = NumFine
	}
	if nCoarse == 0 {
		nCoarse = NumCoarse
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var buf [RecordBytes]byte
	var rec Record
	rows := 0
	for {
		if size >= 0 && int64(rows)*RecordBytes == size {
			// Anything after the declared size is not ours to read.
			return rows, nil
		}
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		n, err := io.ReadFull(br, buf[:])
		if err != nil {
			if errors.Is(err, io.EOF) && size < 0 {
				return rows, nil
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return rows, fmt.Errorf("binary %s: truncated: record %d has %d of %d bytes", split, rows, n, RecordBytes)
			}
			return rows, fmt.Errorf("binary %s: read: %w", split, err)
		}
		coarse, fine := int(buf[0]), int(buf[1])
		if fine >= nFine {
			return rows, fmt.Errorf("binary %s: record %d has fine label %d, want < %d", split, rows, fine, nFine)
		}
		if coarse >= nCoarse {
			return rows, fmt.Errorf("binary %s: record %d has coarse label %d, want < %d", split, rows, coarse, nCoarse)
		}
		rec.Split, rec.Row = split, rows
		rec.CoarseLabel, rec.FineLabel = coarse, fine
		rec.Filename = binaryFilename(meta, fine, split, rows)
		copy(rec.Pixels[:], buf[2:])
		rows++
		if err := fn(rec); err != nil {
			return rows, err
		}
	}
}

// ParseLabelNames reads a binary-version label file (fine_label_names.txt or
// coarse_label_names.txt): one name per line; blank lines at the end are
// ignored, as is a trailing carriage return.
func ParseLabelNames(data []byte, want int, what string) ([]string, error) {
	lines := strings.Split(string(bytes.TrimRight(data, "\r\n \t")), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			return nil, fmt.Errorf("%s: line %d is empty", what, i+1)
		}
		lines[i] = l
	}
	if len(lines) != want {
		return nil, fmt.Errorf("%s: %d names, want %d", what, len(lines), want)
	}
	return lines, nil
}
