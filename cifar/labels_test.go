package cifar_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/scones/scones/cifar"
)

func TestStandardMeta(t *testing.T) {
	m := cifar.StandardMeta()
	if len(m.FineLabelNames) != 100 || len(m.CoarseLabelNames) != 20 {
		t.Fatalf("%d fine, %d coarse", len(m.FineLabelNames), len(m.CoarseLabelNames))
	}
	for i, want := range map[int]string{0: "apple", 8: "bicycle", 48: "motorcycle", 99: "worm", 58: "pickup_truck"} {
		if m.FineLabelNames[i] != want {
			t.Errorf("fine %d = %s, want %s", i, m.FineLabelNames[i], want)
		}
	}
	c := cifar.StandardCoarseOf()
	if c[8] != 18 || c[48] != 18 || m.CoarseLabelNames[18] != "vehicles_1" || c[0] != 4 {
		t.Fatalf("coarse of bicycle %d, motorcycle %d, apple %d", c[8], c[48], c[0])
	}
	m.FineLabelNames[8] = "changed"
	if cifar.StandardMeta().FineLabelNames[8] != "bicycle" {
		t.Fatal("StandardMeta shares state")
	}
}

func TestResolveLabels(t *testing.T) {
	m := cifar.StandardMeta()
	for _, tc := range []struct {
		in   []string
		want []int
	}{
		{[]string{"bicycle,motorcycle"}, []int{8, 48}},
		{[]string{"motorcycle", "bicycle"}, []int{48, 8}},
		{[]string{"8", "48"}, []int{8, 48}},
		{[]string{" Pickup Truck , 8"}, []int{58, 8}},
		{[]string{"lawn-mower"}, []int{41}},
	} {
		got, err := cifar.ResolveLabels(m, tc.in)
		if err != nil || len(got) != len(tc.want) || got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1] {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"bicylce", `unknown label "bicylce"; did you mean "bicycle"?`},
		{"motorbike", `unknown label "motorbike"; did you mean "motorcycle"`},
		{"tree", `"maple_tree"`},
		{"zzzzzzzz", `unknown label "zzzzzzzz" (no close match among the 100 fine label names)`},
		{"100", "label index 100 out of range [0, 100)"},
		{"-1", "out of range"},
		{"bicycle,8", `label "8" selected twice (already given as "bicycle")`},
		{" , ", "no labels given"},
	} {
		_, err := cifar.ResolveLabels(m, []string{tc.in})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	set := cifar.NewLabelSet([]int{8, 48})
	if c, ok := set.Class(48); !ok || c != 1 {
		t.Fatal("class of 48")
	}
	if _, ok := set.Class(3); ok {
		t.Fatal("3 selected")
	}
}

func TestEncodePNG(t *testing.T) {
	var px [cifar.PixelBytes]byte
	for i := range px {
		px[i] = byte(i * 7)
	}
	a, err := cifar.EncodePNG(&px)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cifar.EncodePNG(&px)
	if !bytes.Equal(a, b) {
		t.Fatal("not deterministic")
	}
	if a[25] != 2 || a[24] != 8 {
		t.Fatalf("colour type %d depth %d, want RGB 8-bit", a[25], a[24])
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(a))
	if err != nil || cfg.Width != 32 || cfg.Height != 32 {
		t.Fatalf("%v %v", cfg, err)
	}
	back, err := cifar.DecodePNG(a)
	if err != nil || back != px {
		t.Fatalf("round trip: %v", err)
	}
	// R, G, B planes: pixel (x=1, y=0) has R=px[1], G=px[1025], B=px[2049].
	img, _ := png.Decode(bytes.NewReader(a))
	r, g, bl, _ := img.At(1, 0).RGBA()
	if byte(r>>8) != px[1] || byte(g>>8) != px[1025] || byte(bl>>8) != px[2049] {
		t.Fatal("plane layout")
	}
}

func TestManifest(t *testing.T) {
	in := "16\t0\tbike_s_000682.png\n30\t1\tbike_s_000127.png\n"
	es, err := cifar.ParseManifest(strings.NewReader(in))
	if err != nil || len(es) != 2 || es[1].Class != 1 || es[0].Row != 16 {
		t.Fatalf("%v %v", es, err)
	}
	var buf bytes.Buffer
	if err := cifar.WriteManifest(&buf, es); err != nil || buf.String() != in {
		t.Fatalf("%q %v", buf.String(), err)
	}
	if _, err := cifar.ParseManifest(strings.NewReader("1 0 x.png\n")); err == nil {
		t.Fatal("space-separated accepted")
	}
	if err := cifar.WriteManifest(&buf, []cifar.ManifestEntry{{Filename: "a\tb"}}); err == nil {
		t.Fatal("tab in name accepted")
	}
}
