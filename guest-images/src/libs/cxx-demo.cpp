// cxx-demo: static libstdc++ (g++ -m32 -static). Exceptions thrown through deep
// recursion with destructors running on the way out, std::sort, std::map,
// std::string, virtual dispatch, std::function, iostream formatting.
// Exit status 0 if every check passed.
//
//   cxx-demo [N]   sort N values and throw from recursion depths 10, N/100 and N/5,
//                  100..1000000 (default 100000: ~234 M instructions; 500: a whole
//                  run in about two million)
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

static int live = 0, destroyed = 0;

struct Guard {
    int depth;
    char pad[200];  // make each frame a little bigger: the stack grows
    explicit Guard(int d) : depth(d) { ++live; pad[0] = (char)d; }
    ~Guard() { --live; ++destroyed; }
};

struct DeepError : std::runtime_error {
    int depth;
    DeepError(int d) : std::runtime_error("bottom reached"), depth(d) {}
};

static int dive(int n, int limit) {
    Guard g(n);
    if (n == limit) throw DeepError(n);
    return dive(n + 1, limit) + g.pad[0];
}

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};
struct Rect : Shape {
    double w, h;
    Rect(double w_, double h_) : w(w_), h(h_) {}
    double area() const override { return w * h; }
    std::string name() const override { return "rect"; }
};
struct Circle : Shape {
    double r;
    explicit Circle(double r_) : r(r_) {}
    double area() const override { return 3.14159265358979 * r * r; }
    std::string name() const override { return "circle"; }
};

int main(int argc, char **argv) {
    long n = 100000;
    if (argc > 1) {
        n = std::strtol(argv[1], nullptr, 0);
        if (n < 100 || n > 1000000) {
            std::cerr << "usage: cxx-demo [N], 100..1000000\n";
            return 2;
        }
    }
    int bad = 0;
    for (int limit : {10, int(n / 100), int(n / 5)}) {
        destroyed = 0;
        try {
            dive(0, limit);
            std::cout << "no exception?\n";
            bad = 1;
        } catch (const DeepError &e) {
            std::cout << "caught '" << e.what() << "' from depth " << e.depth << ", destructors run "
                      << destroyed << ", live " << live << "\n";
            bad |= destroyed != limit + 1 || live != 0;
        }
    }
    try {
        std::vector<int> v(3);
        (void)v.at(7);
    } catch (const std::out_of_range &) {
        std::cout << "out_of_range caught\n";
    }

    std::vector<unsigned> v(n);
    unsigned x = 1;
    for (auto &e : v) e = (x = x * 1664525u + 1013904223u) >> 8;
    std::sort(v.begin(), v.end());
    bool sorted = std::is_sorted(v.begin(), v.end());
    unsigned long long sum = std::accumulate(v.begin(), v.end(), 0ULL);
    std::cout << "sort: " << v.size() << " values, sorted=" << sorted << ", min " << v.front() << ", max "
              << v.back() << ", median " << v[v.size() / 2] << ", sum " << sum << "\n";
    bad |= !sorted;

    std::map<std::string, int> count;
    std::istringstream text("the stack grows down the heap grows up and the page fault handler decides");
    for (std::string w; text >> w;) ++count[w];
    std::cout << "map:";
    for (const auto &kv : count) std::cout << " " << kv.first << "=" << kv.second;
    std::cout << "\n";

    std::vector<std::unique_ptr<Shape>> shapes;
    shapes.emplace_back(new Rect(3, 4));
    shapes.emplace_back(new Circle(1.5));
    shapes.emplace_back(new Rect(0.5, 8));
    std::sort(shapes.begin(), shapes.end(), [](const auto &a, const auto &b) { return a->area() < b->area(); });
    std::cout << std::fixed << std::setprecision(3);
    for (const auto &s : shapes) std::cout << "shape " << s->name() << " area " << s->area() << "\n";

    std::function<long(int)> fact = [&](int n) -> long { return n <= 1 ? 1 : n * fact(n - 1); };
    std::cout << "fact(12) = " << fact(12) << ", hex " << std::hex << 0xC0000000u << std::dec << "\n";

    std::string s = "expand_stack";
    std::reverse(s.begin(), s.end());
    std::cout << "string: " << s << " " << s.size() << " " << s.find("dna") << "\n";
    std::cout << (bad ? "FAILED" : "all ok") << "\n";
    return bad;
}
