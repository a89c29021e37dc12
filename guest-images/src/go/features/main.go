// features: a Go program built for GOARCH=386 (CGO_ENABLED=0) that uses what real
// Go programs use — goroutines and channels, maps, JSON, SHA-256, float math (SSE2 on
// 386), and a recovered panic — and prints the results. Built at test time by
// tests/go_guest.rs with Debian's golang-go.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

type record struct {
	Name  string             `json:"name"`
	Count int                `json:"count"`
	Score float64            `json:"score"`
	Tags  map[string]float64 `json:"tags"`
}

// worker hashes what it receives; which worker gets which number varies from run
// to run, so the result names only the number.
func worker(in <-chan int, out chan<- string) {
	for n := range in {
		sum := sha256.Sum256([]byte(strings.Repeat(fmt.Sprint(n), n+1)))
		out <- fmt.Sprintf("%02d:%x", n, sum[:6])
	}
}

func main() {
	in, out := make(chan int), make(chan string)
	for id := 0; id < 4; id++ {
		go worker(in, out)
	}
	go func() {
		for n := 0; n < 20; n++ {
			in <- n
		}
		close(in)
	}()
	var got []string
	for i := 0; i < 20; i++ {
		got = append(got, <-out)
	}
	sort.Strings(got)
	fmt.Println("goroutines:", len(got), "results, first", got[0], "last", got[len(got)-1])

	m := map[string]float64{}
	for i := 1; i <= 100; i++ {
		m[fmt.Sprintf("k%03d", i%37)] += math.Sqrt(float64(i)) * math.Sin(float64(i))
	}
	b, err := json.Marshal(record{Name: "growsdown", Count: len(m), Score: math.Pi * math.E, Tags: map[string]float64{"a": m["k001"], "b": m["k036"]}})
	fmt.Println("json:", string(b), err)
	var back record
	fmt.Println("unmarshal:", json.Unmarshal(b, &back), back.Count, back.Tags["a"] == m["k001"])
	fmt.Printf("float: %.17g %.17g %v\n", math.Exp(1.5), math.Log1p(1e-10), math.Float64bits(math.Cbrt(27.5)))

	defer func() {
		r := recover()
		fmt.Println("recovered:", r)
	}()
	var arr []int
	_ = arr[len(got)]
}
