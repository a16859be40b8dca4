// Package monitor is the workflow's monitor step: it reads the endpoint's
// SageMaker Model Monitor data capture back, summarises the classifier's
// confidence against the filter Lambda's threshold, and writes a report.
//
// The steps, each usable alone:
//
//	src := monitor.NewS3Lister(s3Client, bucket, "data_capture") // or monitor.NewDirLister(dir)
//	ds, err := monitor.Read(ctx, src, since)                     // list, fetch, Parse, window
//	s := monitor.Summarize(ds, 0.93, &monitor.ExecutionCounts{...}) // nil: executions unknown
//	files, err := monitor.WriteReport("scones-out", ds, s)       // monitor.png, monitor.svg, summary.json
//	monitor.PrintSummary(os.Stdout, s)
//
// WriteReport takes the threshold from the Summary, so the chart and
// summary.json cannot disagree about it. ExecutionCounts has the fields
// and JSON names of pipeline.RunSummary's counts; monitor does not import
// pipeline, so that pipeline can call monitor.
//
// # Capture files
//
// Capture files are JSON Lines, one inference per line:
//
//	{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"<base64>","encoding":"BASE64"},
//	 "endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"[0.82, 0.18]","encoding":"JSON"}},
//	 "eventMetadata":{"eventId":"...","inferenceTime":"2025-10-04T08:44:11Z"},"eventVersion":"0"}
//
// stored under <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/MM-SS-mmm-<uuid>.jsonl.
// Parse decodes each line's data by its encoding (JSON and CSV: the text
// itself; BASE64: base64 of it) and reads the output as the class
// probabilities [p_bicycle, p_motorcycle] (a JSON array, or one CSV row).
//
// # Bad input
//
// A malformed line does not stop the step: it is reported with its file
// and line (ParseError), counted in the summary (malformed_lines, and
// listed under malformed), printed by PrintSummary, and noted in the chart's
// subtitle. Read fails only when there is nothing to report: no capture
// file, no line that parses, or no record in the window (ErrNoCaptures),
// or when listing or fetching a file fails.
//
// # Time window
//
// ParseSince reads a --since value (a time, a date, or a duration before
// now). With a since time, listers skip whole hour folders by key: a
// folder yyyy/mm/dd/hh is skipped when its hour is before since's hour less
// HourSlack (one hour: a capture file is filed under the hour it was opened
// and can hold later records). The S3 lister does it by restarting
// ListObjectsV2 with StartAfter past the skipped folders, so they are never
// listed; otherwise it pages with ContinuationToken. Read then keeps the
// records whose inferenceTime is at or after since and counts the others
// (outside_window).
//
// # Report
//
// One figure (PNG and SVG): on the left, each inference's top confidence
// over its inference time (UTC clock times), coloured pass (bluish green)
// or fail (vermillion), shaped by predicted class, with the threshold as a
// dashed line; on the right, a legend and one histogram per predicted
// class of the top confidences, bars coloured pass/fail, the threshold
// dashed. Pass means top confidence > threshold, the filter Lambda's rule.
// summary.json holds the Summary: captures, pass/fail counts and rate,
// per-class counts and top-confidence mean/min/max, the window, the files
// read, the malformed lines, and the run step's execution counts
// (executions: null when the caller has none).
package monitor
