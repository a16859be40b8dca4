package cifar_test

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

// The stage step in outline: open, pick the labels, stream the records,
// keep the selected ones as PNGs, and write the .lst manifests.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	source, _ := fixtures.WriteCommitted(dir, fixtures.MiniPython) // or cifar.PythonURL

	a, err := cifar.Open(ctx, source)
	if err != nil {
		fmt.Println(err)
		return
	}
	labels, err := cifar.ResolveLabels(a.Meta(), []string{"bicycle,motorcycle"})
	if err != nil {
		fmt.Println(err)
		return
	}
	set := cifar.NewLabelSet(labels)
	manifests := map[string][]cifar.ManifestEntry{}
	pngBytes := 0
	err = a.Records(ctx, func(r cifar.Record) error {
		class, ok := set.Class(r.FineLabel)
		if !ok {
			return nil
		}
		png, err := cifar.EncodePNG(&r.Pixels)
		if err != nil {
			return err
		}
		pngBytes += len(png) // stage uploads png as <split>/<r.Filename>
		manifests[r.Split] = append(manifests[r.Split], cifar.ManifestEntry{Row: r.Row, Class: class, Filename: r.Filename})
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var lst bytes.Buffer
	cifar.WriteManifest(&lst, manifests["train"][:2])
	fmt.Printf("%s format, labels %v, %d train and %d test images\n", a.Format(), labels, len(manifests["train"]), len(manifests["test"]))
	fmt.Print(lst.String())
	// Output:
	// python format, labels [8 48], 240 train and 50 test images
	// 0	0	bicycle_s_000039.png
	// 1	0	bicycle_s_000059.png
}
