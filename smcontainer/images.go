package smcontainer

import (
	"fmt"
	"strings"
)

// ImageClassificationRegistries are the ECR registry accounts that serve
// SageMaker's built-in image-classification algorithm, per region (as the
// SageMaker Python SDK lists them in image_uri_config/image-classification.json).
var imageClassificationRegistries = map[string]string{
	"af-south-1":     "455444449433",
	"ap-east-1":      "286214385809",
	"ap-northeast-1": "501404015308",
	"ap-northeast-2": "306986355934",
	"ap-northeast-3": "867004704886",
	"ap-south-1":     "991648021394",
	"ap-south-2":     "628508329040",
	"ap-southeast-1": "475088953585",
	"ap-southeast-2": "544295431143",
	"ap-southeast-3": "951798379941",
	"ap-southeast-4": "106583098589",
	"ca-central-1":   "469771592824",
	"ca-west-1":      "190319476487",
	"cn-north-1":     "390948362332",
	"cn-northwest-1": "387376663083",
	"eu-central-1":   "813361260812",
	"eu-central-2":   "680994064768",
	"eu-north-1":     "669576153137",
	"eu-south-1":     "257386234256",
	"eu-south-2":     "104374241257",
	"eu-west-1":      "685385470294",
	"eu-west-2":      "644912444149",
	"eu-west-3":      "749696950732",
	"il-central-1":   "898809789911",
	"me-central-1":   "272398656194",
	"me-south-1":     "249704162688",
	"sa-east-1":      "855470959533",
	"us-east-1":      "811284229777",
	"us-east-2":      "825641698319",
	"us-gov-east-1":  "237065988967",
	"us-gov-west-1":  "226302683700",
	"us-iso-east-1":  "490574956308",
	"us-isob-east-1": "765400339828",
	"us-west-1":      "632365934929",
	"us-west-2":      "433757028032",
}

// ImageClassificationURI returns the built-in image-classification image of
// region (tag "1"), or "" for a region without one.
func ImageClassificationURI(region string) string {
	acct, ok := imageClassificationRegistries[region]
	if !ok {
		return ""
	}
	return acct + ".dkr.ecr." + region + "." + ecrDomain(region) + "/image-classification:1"
}

func ecrDomain(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-isob-"):
		return "sc2s.sgov.gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "c2s.ic.gov"
	}
	return "amazonaws.com"
}

// IsImageClassification reports whether image is a region's built-in
// image-classification URI, <account>.dkr.ecr.<region>.<domain>/image-classification
// with tag 1 or latest, from that region's registry account.
func IsImageClassification(image string) bool {
	host, path, ok := strings.Cut(image, "/")
	if !ok {
		return false
	}
	repo, tag, _ := strings.Cut(path, ":")
	if repo != "image-classification" || (tag != "1" && tag != "latest") {
		return false
	}
	parts := strings.SplitN(host, ".", 5) // acct, dkr, ecr, region, domain
	if len(parts) != 5 || parts[1] != "dkr" || parts[2] != "ecr" {
		return false
	}
	acct, region, domain := parts[0], parts[3], parts[4]
	return imageClassificationRegistries[region] == acct && ecrDomain(region) == domain
}

// UnknownImageError is returned for an image the Runner cannot map to a
// local program.
type UnknownImageError struct{ Image string }

func (e *UnknownImageError) Error() string {
	return fmt.Sprintf("image %q cannot run locally: scones runs the built-in image-classification algorithm "+
		"(<account>.dkr.ecr.<region>.amazonaws.com/image-classification:1 or :latest, with the region's registry account, "+
		"e.g. %s) and the images configured in smcontainer.Options.Images", e.Image, ImageClassificationURI("us-east-1"))
}
