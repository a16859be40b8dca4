package cifar

import (
	"strconv"
	"strings"
)

// Sizes of a CIFAR image and of a binary-version record.
const (
	ImageSize   = 32             // images are ImageSize x ImageSize
	PixelBytes  = 3 * 32 * 32    // 1,024 R, then 1,024 G, then 1,024 B bytes, row-major
	RecordBytes = 2 + PixelBytes // binary version: coarse label, fine label, pixels
	NumFine     = 100            // fine labels of CIFAR-100
	NumCoarse   = 20             // coarse labels of CIFAR-100
)

// Split names, in the order Records yields them.
const (
	SplitTrain = "train"
	SplitTest  = "test"
)

// Record is one image of the dataset.
type Record struct {
	Split       string // SplitTrain or SplitTest
	Row         int    // index of the record in its split (the .lst "row")
	FineLabel   int    // 0..99
	CoarseLabel int    // 0..19
	// Filename is the CIFAR file name from the python version's pickle
	// (e.g. "bicycle_s_000017.png"). The binary version has no file names:
	// there it is "<fine label name>_<split>_<row>.png", e.g.
	// "bicycle_train_42.png", with the fine label name from the archive's
	// fine_label_names.txt. It is always a plain base name.
	Filename string
	// Pixels is the image: 1,024 red, 1,024 green, 1,024 blue bytes, each
	// plane row-major. It is a value, so a Record can be kept or sent to
	// another goroutine without copying.
	Pixels [PixelBytes]byte
}

// binaryFilename names a record of the binary version.
func binaryFilename(meta Meta, fine int, split string, row int) string {
	return sanitizeName(meta.FineName(fine)) + "_" + split + "_" + strconv.Itoa(row) + ".png"
}

func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// validFilename reports whether a file name from an archive is safe to use
// as an object key or file name: a non-empty base name without path
// separators or control characters.
func validFilename(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
