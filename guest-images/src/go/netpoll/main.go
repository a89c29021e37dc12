// netpoll: a Go program built for GOARCH=386 (CGO_ENABLED=0) for the part of the Go
// runtime that needs its network poller (epoll on Linux): runtime timers — select
// with time.After timeouts, context.WithTimeout, time.Sleep, a Ticker, Timer.Stop,
// AfterFunc —, runtime.GC with live allocations (after a collection the background
// scavenger sleeps on a runtime timer), and an os.Pipe, whose ends the runtime
// registers with the poller. The first timer initialises the poller. Prints only
// what does not depend on the host or the run. Built at test time by
// tests/go_guest.rs with Debian's golang-go; ../goroutines is the part that does
// not need the poller.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// selects: a time.After timeout, and a value that beats its timeout.
func selects() {
	never := make(chan int)
	select {
	case v := <-never:
		fmt.Println("select: got", v)
	case <-time.After(5 * time.Millisecond):
		fmt.Println("select: timeout after 5ms")
	}

	soon := make(chan int)
	go func() {
		time.Sleep(time.Millisecond)
		soon <- 42
	}()
	select {
	case v := <-soon:
		fmt.Println("select: value before the 10s timeout", v)
	case <-never:
		fmt.Println("select: got from never")
	case <-time.After(10 * time.Second):
		fmt.Println("select: timed out")
	}
}

// contexts: WithTimeout expiring, WithTimeout cancelled before its deadline.
func contexts() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	select {
	case <-ctx.Done():
		fmt.Println("context: timeout:", ctx.Err(), errors.Is(ctx.Err(), context.DeadlineExceeded))
	case <-time.After(10 * time.Second):
		fmt.Println("context: deadline never came")
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	work := make(chan int)
	go func() { work <- 7 }()
	select {
	case v := <-work:
		cancel2()
		<-ctx2.Done()
		fmt.Println("context: work", v, "before the deadline, then", ctx2.Err())
	case <-ctx2.Done():
		fmt.Println("context: work too slow")
	}
}

// timers: time.Sleep lasts at least as long as asked, a Ticker of 5 ms ticks, a
// Timer stopped before it fires, AfterFunc.
func timers() {
	t0 := time.Now()
	time.Sleep(3 * time.Millisecond)
	fmt.Println("sleep: 3ms slept at least 3ms:", time.Since(t0) >= 3*time.Millisecond)

	t1 := time.Now()
	ticker := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range ticker.C {
		ticks++
		if ticks == 4 {
			break
		}
	}
	ticker.Stop()
	fmt.Println("ticker:", ticks, "ticks of 5ms took at least 20ms:", time.Since(t1) >= 20*time.Millisecond)

	timer := time.NewTimer(time.Hour)
	fmt.Println("timer: stopped before firing:", timer.Stop())
	af := make(chan string)
	time.AfterFunc(time.Millisecond, func() { af <- "ran" })
	fmt.Println("timer: AfterFunc", <-af)
}

type node struct {
	left, right *node
	val         int
}

func tree(depth, val int) *node {
	if depth == 0 {
		return &node{val: val}
	}
	return &node{tree(depth-1, 2*val), tree(depth-1, 2*val+1), val}
}

func (n *node) sum() int {
	if n == nil {
		return 0
	}
	return n.val + n.left.sum() + n.right.sum()
}

// collect: runtime.GC several times while goroutines allocate, with live data that
// must come through intact.
func collect() {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	live := tree(12, 1)
	want := live.sum()
	keep := make([][]byte, 0, 64)
	var wg sync.WaitGroup
	var garbage int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				b := make([]byte, 1024+i)
				b[0] = byte(g)
				atomic.AddInt64(&garbage, int64(len(b)))
				if i%20 == 0 {
					_ = tree(4, i)
				}
			}
		}(g)
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
		keep = append(keep, bytesOf(i, 4096))
	}
	wg.Wait()
	runtime.GC()
	ok := true
	for i, b := range keep {
		if string(b) != string(bytesOf(i, 4096)) {
			ok = false
		}
	}
	runtime.ReadMemStats(&after)
	fmt.Println("gc: tree sum intact", live.sum() == want, "kept buffers intact", ok,
		"garbage bytes", atomic.LoadInt64(&garbage), "6+ collections", after.NumGC-before.NumGC >= 6)
}

func bytesOf(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i*7)
	}
	return b
}

// pipes: an os.Pipe read by a goroutine blocked in the runtime's poller while
// another goroutine writes 64 KiB in pieces.
func pipes() {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println("pipe:", err)
		return
	}
	got := make(chan int)
	go func() {
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			fmt.Println("pipe: read:", err)
		}
		got <- int(n)
	}()
	chunk := []byte(strings.Repeat("growsdown", 455)) // 4095 bytes
	written := 0
	for i := 0; i < 16; i++ {
		n, err := w.Write(chunk)
		written += n
		if err != nil {
			fmt.Println("pipe: write:", err)
			break
		}
	}
	w.Close()
	fmt.Println("pipe: wrote", written, "read", <-got)
}

func main() {
	baseline := runtime.NumGoroutine()
	fmt.Println("netpoll: start")
	selects()
	contexts()
	timers()
	collect()
	pipes()

	// Goroutines that have signalled may not have returned yet: wait for them.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() != baseline && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("goroutines back to the baseline:", runtime.NumGoroutine() == baseline)
}
