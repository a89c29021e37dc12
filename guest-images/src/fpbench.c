/* fpbench [SCALE]: a floating-point program for benchmarks, all x87.
 *
 * Built with -m32 -mfpmath=387 -fno-math-errno, so every double operation is an x87
 * instruction (fld/fst, fadd/fmul/fdiv, fsqrt, fcomi, fild/fistp with the FCW
 * switches of a C cast) and no library call: a Mandelbrot set, a five-body orbit
 * integration and two slowly converging series. SCALE (default 10) multiplies the
 * work. Prints the results to 9 digits. */
#include <stdio.h>
#include <stdlib.h>

static long mandelbrot(int w, int hgt, int maxit) {
    long total = 0;
    for (int py = 0; py < hgt; py++)
        for (int px = 0; px < w; px++) {
            double cr = -2.0 + 2.5 * px / w, ci = -1.25 + 2.5 * py / hgt;
            double zr = 0, zi = 0;
            int it = 0;
            while (it < maxit && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
        }
    return total;
}

static double nbody(int steps) {
    double x[5] = {0, 1, -1.5, 0, 2.5}, y[5] = {0, 0, 0, 2, -0.5}, z[5] = {0, 0.1, -0.2, 0, 0.3};
    double vx[5] = {0, 0, 0, -0.6, 0.1}, vy[5] = {0, 1, -0.8, 0, 0.5}, vz[5] = {0};
    double m[5] = {10, 0.1, 0.2, 0.05, 0.01}, dt = 0.001;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
                double d2 = dx * dx + dy * dy + dz * dz + 0.01;
                double mag = dt / (d2 * __builtin_sqrt(d2));
                vx[i] -= dx * m[j] * mag, vy[i] -= dy * m[j] * mag, vz[i] -= dz * m[j] * mag;
                vx[j] += dx * m[i] * mag, vy[j] += dy * m[i] * mag, vz[j] += dz * m[i] * mag;
            }
        for (int i = 0; i < 5; i++) x[i] += dt * vx[i], y[i] += dt * vy[i], z[i] += dt * vz[i];
    }
    double e = 0;
    for (int i = 0; i < 5; i++) e += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    return e;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 10;
    long it = mandelbrot(16 * scale, 8 * scale, 200);
    double e = nbody(2000 * scale);
    double basel = 0, pi4 = 0;
    unsigned long trunc = 0;
    for (int k = 1; k <= 20000 * scale; k++) {
        basel += 1.0 / ((double)k * k);
        pi4 += (k & 1 ? 1.0 : -1.0) / (2 * k - 1);
        trunc = trunc * 31 + ((unsigned long)(long)(basel * 1000.0) ^ (unsigned long)(long)(pi4 * 1e6));
    }
    printf("fpbench: scale %d, mandelbrot %ld, energy %.9f, basel %.9f, pi %.9f, %08lx\n", scale, it, e,
           basel, 4 * pi4, trunc);
    return 0;
}
