// goroutines: a Go program built for GOARCH=386 (CGO_ENABLED=0) that works the Go
// runtime's threads and scheduler hard — channels, select, sync, atomics, 1000
// goroutines, a pipeline, cancelled contexts, asynchronous preemption, locked OS
// threads and panics recovered in goroutines — and prints only what does not depend
// on the host or the run: no time, address, goroutine or thread id, nor the CPU
// count. It starts no runtime timer, opens no file and allocates too little for a
// collection (after one the background scavenger sleeps on a runtime timer), so it
// never needs the runtime's network poller (epoll): ../netpoll is what does.
// Built at test time by tests/go_guest.rs with Debian's golang-go.
package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// unbuffered: a ping-pong over two unbuffered channels, every hand-off a rendezvous.
func unbuffered() {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v * 2
		}
		close(pong)
	}()
	sum := 0
	for i := 1; i <= 200; i++ {
		ping <- i
		sum += <-pong
	}
	close(ping)
	_, open := <-pong
	fmt.Println("unbuffered: 200 round trips, sum", sum, "pong closed", !open)
}

// buffered: fills a buffer without a reader, then a producer and a consumer.
func buffered() {
	ch := make(chan int, 10)
	for i := 0; i < 10; i++ {
		ch <- i
	}
	fmt.Println("buffered: full", len(ch), "of", cap(ch))
	done := make(chan int)
	go func() {
		sum := 0
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	for i := 10; i < 500; i++ {
		ch <- i
	}
	close(ch)
	fmt.Println("buffered: sum", <-done)
}

// selects: a select over three producers until all have closed, then a
// non-blocking select.
func selects() {
	a, b, c := make(chan int), make(chan string, 3), make(chan struct{})
	go func() {
		for i := 0; i < 30; i++ {
			a <- i
		}
		close(a)
	}()
	go func() {
		for i := 0; i < 20; i++ {
			b <- strings.Repeat("x", i%4)
		}
		close(b)
	}()
	go func() {
		for i := 0; i < 10; i++ {
			c <- struct{}{}
		}
		close(c)
	}()
	na, nb, nc, asum, blen := 0, 0, 0, 0, 0
	for a != nil || b != nil || c != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			na++
			asum += v
		case s, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			nb++
			blen += len(s)
		case _, ok := <-c:
			if !ok {
				c = nil
				continue
			}
			nc++
		}
	}
	fmt.Println("select: a", na, asum, "b", nb, blen, "c", nc)

	empty := make(chan int)
	select {
	case v := <-empty:
		fmt.Println("select: default not taken", v)
	default:
		fmt.Println("select: default taken")
	}
}

// syncs: WaitGroup, Mutex, RWMutex, Once and Cond.
func syncs() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	counter := 0
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println("mutex: 50 goroutines x 100 increments =", counter)

	// RWMutex: writers keep x+y == 0; readers check it under the read lock.
	var rw sync.RWMutex
	x, y := 0, 0
	var bad, reads int64
	for g := 0; g < 8; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				rw.Lock()
				x++
				runtime.Gosched()
				y--
				rw.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				rw.RLock()
				if x+y != 0 {
					atomic.AddInt64(&bad, 1)
				}
				atomic.AddInt64(&reads, 1)
				rw.RUnlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println("rwmutex: x", x, "y", y, "reads", reads, "violations", bad)

	var once sync.Once
	var onceRuns int32
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			once.Do(func() { atomic.AddInt32(&onceRuns, 1) })
		}()
	}
	wg.Wait()
	fmt.Println("once: ran", onceRuns, "time(s) for 20 callers")

	// Cond: waiters released together by Broadcast ...
	cmu := sync.Mutex{}
	cond := sync.NewCond(&cmu)
	ready, waiting, woken := false, 0, 0
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmu.Lock()
			waiting++
			cond.Broadcast() // tells the main goroutine one more is waiting
			for !ready {
				cond.Wait()
			}
			woken++
			cmu.Unlock()
		}()
	}
	cmu.Lock()
	for waiting < 10 {
		cond.Wait()
	}
	ready = true
	cond.Broadcast()
	cmu.Unlock()
	wg.Wait()
	fmt.Println("cond: broadcast woke", woken, "of", waiting)

	// ... and a bounded queue of 3 with Signal.
	var queue []int
	qmu := sync.Mutex{}
	notEmpty, notFull := sync.NewCond(&qmu), sync.NewCond(&qmu)
	total := make(chan int)
	go func() {
		sum := 0
		for n := 0; n < 300; n++ {
			qmu.Lock()
			for len(queue) == 0 {
				notEmpty.Wait()
			}
			sum += queue[0]
			queue = queue[1:]
			notFull.Signal()
			qmu.Unlock()
		}
		total <- sum
	}()
	for i := 1; i <= 300; i++ {
		qmu.Lock()
		for len(queue) == 3 {
			notFull.Wait()
		}
		queue = append(queue, i)
		notEmpty.Signal()
		qmu.Unlock()
	}
	fmt.Println("cond: bounded queue sum", <-total)
}

// atomics: adds, compare-and-swap loops, a 64-bit counter (LOCK CMPXCHG8B on 386)
// and atomic.Value.
func atomics() {
	var wg sync.WaitGroup
	var n32 int32
	var n64 uint64
	var cas int32
	var v atomic.Value
	v.Store("start")
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				atomic.AddInt32(&n32, 1)
				atomic.AddUint64(&n64, 1<<33)
				for {
					old := atomic.LoadInt32(&cas)
					if atomic.CompareAndSwapInt32(&cas, old, old+2) {
						break
					}
				}
			}
			if g == 57 {
				v.Store("stored by one goroutine")
			}
		}(g)
	}
	wg.Wait()
	fmt.Println("atomic: int32", atomic.LoadInt32(&n32), "uint64", atomic.LoadUint64(&n64), "cas", cas, "value", v.Load())
}

// many: 1000 goroutines, each sending one result.
func many() {
	results := make(chan int)
	for i := 0; i < 1000; i++ {
		go func(i int) {
			results <- i * i
		}(i)
	}
	sum, count := 0, 0
	for count < 1000 {
		sum += <-results
		count++
	}
	fmt.Println("many: 1000 goroutines sent", count, "results, sum", sum)
}

// pipeline: generate -> 4 squarers (fan-out) -> merge (fan-in) -> filter -> sum.
func pipeline() {
	gen := func(n int) <-chan int {
		out := make(chan int)
		go func() {
			for i := 1; i <= n; i++ {
				out <- i
			}
			close(out)
		}()
		return out
	}
	square := func(in <-chan int) <-chan int {
		out := make(chan int, 4)
		go func() {
			for v := range in {
				out <- v * v
			}
			close(out)
		}()
		return out
	}
	merge := func(ins ...<-chan int) <-chan int {
		out := make(chan int)
		var wg sync.WaitGroup
		for _, in := range ins {
			wg.Add(1)
			go func(in <-chan int) {
				defer wg.Done()
				for v := range in {
					out <- v
				}
			}(in)
		}
		go func() {
			wg.Wait()
			close(out)
		}()
		return out
	}
	odd := func(in <-chan int) <-chan int {
		out := make(chan int)
		go func() {
			for v := range in {
				if v%2 == 1 {
					out <- v
				}
			}
			close(out)
		}()
		return out
	}
	src := gen(400)
	sum, n := 0, 0
	for v := range odd(merge(square(src), square(src), square(src), square(src))) {
		sum += v
		n++
	}
	fmt.Println("pipeline: odd squares of 1..400:", n, "sum", sum)
}

// contexts: WithCancel reaching a tree of workers, each with its own child context.
func contexts() {
	parent, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var started sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		started.Add(1)
		child, childCancel := context.WithCancel(parent)
		go func(ctx context.Context, cancel context.CancelFunc) {
			defer wg.Done()
			defer cancel()
			started.Done()
			<-ctx.Done()
			errs <- ctx.Err()
		}(child, childCancel)
	}
	started.Wait()
	stop()
	wg.Wait()
	close(errs)
	canceled := 0
	for err := range errs {
		if err == context.Canceled {
			canceled++
		}
	}
	fmt.Println("context: cancel reached", canceled, "of 8 workers")
}

// preempt: with GOMAXPROCS(1), a goroutine spins in a loop with no call in it; the
// main goroutine only runs again if the runtime preempts the spinner asynchronously
// (sysmon sends the spinner's thread SIGURG with tgkill).
func preempt() {
	prev := runtime.GOMAXPROCS(1)
	var stop, spins int32
	started, done := make(chan bool), make(chan bool)
	go func() {
		started <- true // readies main, which waits for a P: the spinner keeps it
		n := 0
		for atomic.LoadInt32(&stop) == 0 {
			n++
		}
		atomic.StoreInt32(&spins, 1)
		done <- n > 0
	}()
	<-started
	atomic.StoreInt32(&stop, 1)
	spun := <-done
	runtime.GOMAXPROCS(prev)
	fmt.Println("preempt: main ran beside a spinning goroutine on one P; spinner stopped", spun, atomic.LoadInt32(&spins))
}

// locked: LockOSThread pins goroutines to OS threads; a goroutine that exits while
// locked takes its thread with it (the runtime exits that thread alone).
func locked() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mainTid := syscall.Gettid()
	res := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			res <- syscall.Gettid() != mainTid
		}()
	}
	other := 0
	for i := 0; i < 4; i++ {
		if <-res {
			other++
		}
	}
	fmt.Println("locked: goroutines on threads other than main's:", other, "of 4; main still on its thread:", syscall.Gettid() == mainTid)
}

// panics: panics inside goroutines, recovered there: a value, a runtime error (nil
// map), and an error from a deferred call during a panic.
func panics() {
	recovered := make(chan string, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer func() { recovered <- fmt.Sprint("value: ", recover()) }()
		panic("boom in a goroutine")
	}()
	go func() {
		defer wg.Done()
		defer func() { recovered <- fmt.Sprint("runtime error: ", recover()) }()
		var m map[string]int
		m["x"] = 1
	}()
	go func() {
		defer wg.Done()
		defer func() { recovered <- fmt.Sprint("re-panic: ", recover()) }()
		defer func() {
			r := recover()
			panic(fmt.Errorf("while handling %v: %w", r, io.ErrUnexpectedEOF))
		}()
		var p *struct{ val int }
		_ = p.val
	}()
	wg.Wait()
	close(recovered)
	var all []string
	for s := range recovered {
		all = append(all, s)
	}
	sort.Strings(all)
	for _, s := range all {
		fmt.Println("panic:", s)
	}
}

func main() {
	baseline := runtime.NumGoroutine()
	fmt.Println("gomaxprocs >= 1:", runtime.GOMAXPROCS(0) >= 1)
	unbuffered()
	buffered()
	selects()
	syncs()
	atomics()
	many()
	pipeline()
	contexts()
	preempt()
	locked()
	panics()

	// Goroutines that have signalled may not have returned yet: let them run.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() != baseline && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	fmt.Println("goroutines back to the baseline:", runtime.NumGoroutine() == baseline)
}
