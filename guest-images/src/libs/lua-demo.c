/* lua-demo: links Debian's static i386 Lua 5.4 (liblua5.4-dev:i386) and runs a
 * script: closures, string library, table sorting, coroutines, integer/float
 * arithmetic, pcall/error, metatables, a deep non-tail recursion. Only
 * order-independent iteration (ipairs, sorted keys): Lua 5.4 randomises its string
 * hash seed. Exit status 0 if the script ran.
 *
 *   lua-demo [DEPTH [COUNT]]   depth of the non-tail recursion, 1..150000 (default
 *       150000), and how many numbers table.sort sorts with a Lua comparator,
 *       2..200 (default 200). Defaults: ~134 M instructions; `lua-demo 300 20`: a
 *       whole run in about two million. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

static const char *script =
    "print(_VERSION)\n"
    "local function counter(step) local n = 0; return function() n = n + step; return n end end\n"
    "local c3, c5 = counter(3), counter(5)\n"
    "c3(); c5()\n"
    "print('closures', c3(), c5(), c3())\n"
    "local s = 'growsdown: stack grows down, page by page'\n"
    "print('gsub', (s:gsub('(%w+)', function(w) return w:upper():sub(1,1) .. w:sub(2) end)))\n"
    "print('find', s:find('page'), s:match('(%a+) by (%a+)'))\n"
    "print('format', string.format('%5.2f|%-6s|%x|%q', math.pi, 'vma', 4096, 'a\\nb'))\n"
    "print('rep', ('ab'):rep(3, '-'), #s, s:byte(1), string.char(72, 105))\n"
    "local t = {}\n"
    "for i = 1, COUNT do t[i] = (i * 7919) % 211 end\n"
    "table.sort(t, function(a, b) return a > b end)\n"
    "print('sort', t[1], t[2], t[COUNT // 2], t[COUNT], #t)\n"
    "print('concat', table.concat({1, 2, 3, 'x'}, ','))\n"
    "local words = {}\n"
    "for w in ('the quick brown fox jumps over the lazy dog the end'):gmatch('%a+') do words[w] = (words[w] or 0) + 1 end\n"
    "local keys = {}\n"
    "for k in pairs(words) do keys[#keys + 1] = k end\n"
    "table.sort(keys)\n"
    "local parts = {}\n"
    "for _, k in ipairs(keys) do parts[#parts + 1] = k .. '=' .. words[k] end\n"
    "print('words', table.concat(parts, ' '))\n"
    "local co = coroutine.wrap(function(a) local b = coroutine.yield(a * 2); local c = coroutine.yield(a + b); return a + b + c end)\n"
    "print('coroutine', co(10), co(20), co(30))\n"
    "print('ints', 7 // 2, 7 % -3, -7 // 2, 1 << 40, math.maxinteger, math.mininteger // -1)\n"
    "print('floats', 7 / 2, 2^0.5, math.floor(-3.5), math.tointeger(3.0), 1e308 * 10, string.format('%.14g', 0.1 + 0.2))\n"
    "local ok, err = pcall(function() error({code = 42}) end)\n"
    "print('pcall', ok, type(err), err.code)\n"
    "local ok2, err2 = pcall(function() local x = nil; return x.field end)\n"
    "print('pcall2', ok2, (err2:gsub('^.-:%d+: ', '')))\n"
    "local V = {}\n"
    "V.__index = V\n"
    "V.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, V) end\n"
    "V.__tostring = function(v) return '(' .. v.x .. ',' .. v.y .. ')' end\n"
    "local v = setmetatable({x = 1, y = 2}, V) + setmetatable({x = 10, y = 20}, V)\n"
    "print('metatable', tostring(v))\n"
    "local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end\n"
    "print('recursion', depth(DEPTH))\n"
    "local weak = setmetatable({}, {__mode = 'k'})\n"
    "for i = 1, 20 do weak[{i}] = i end\n"
    "collectgarbage('collect')\n"
    "assert(next(weak) == nil, 'weak keys survived a full collection')\n"
    "local fib = {}\n"
    "local function f(n) if n < 2 then return n end if fib[n] then return fib[n] end local r = f(n-1) + f(n-2); fib[n] = r; return r end\n"
    "print('fib', f(80))\n"
    "math.randomseed(42)\n"
    "local r = {}\n"
    "for i = 1, 5 do r[i] = math.random(1, 1000) end\n"
    "print('random', table.concat(r, ' '))\n";

int main(int argc, char **argv) {
    long depth = argc > 1 ? strtol(argv[1], NULL, 0) : 150000;
    long count = argc > 2 ? strtol(argv[2], NULL, 0) : 200;
    if (depth < 1 || depth > 150000 || count < 2 || count > 200) {
        fprintf(stderr, "usage: lua-demo [DEPTH [COUNT]], DEPTH 1..150000, COUNT 2..200\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) return 1;
    luaL_openlibs(L);
    lua_pushinteger(L, depth);
    lua_setglobal(L, "DEPTH");
    lua_pushinteger(L, count);
    lua_setglobal(L, "COUNT");
    int rc = luaL_dostring(L, script);
    if (rc != LUA_OK) printf("lua error: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return rc == LUA_OK ? 0 : 1;
}
