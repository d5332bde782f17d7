/**
 * pymalloc4j: a pymalloc-style allocator of native memory for small objects.
 *
 * <h2>Layout</h2>
 * <pre>
 *  one reserved range (mmap PROT_NONE, MAP_NORESERVE): | slot 0 | slot 1 | ... | (never committed) |
 *    |  an arena is committed into the lowest free slot (MAP_FIXED read-write), given back PROT_NONE
 *    v  arenaSize bytes, aligned to arenaSize                   system allocator (malloc/free)
 *                                                            ^  requests &gt; 512 B, or alignment a
 *  +-------------------------- arena ---------------------+  |  block cannot give: LargeBlocks
 *  | pool 0 | pool 1 | pool 2 |  ...  | pool k | untouched |  |  records address -&gt; size
 *  +--------+--------+--------+-------+--------+-----------+
 *      |                                  ^ high-water mark (pools carved lazily)
 *      v  poolSize bytes, aligned to poolSize, one size class
 *  +----+----+----+----+----+-------------------+------+
 *  | b0 | b1 | b2 | b3 | b4 |  never handed out  | tail |   tail = poolSize mod blockSize
 *  +----+----+----+----+----+-------------------+------+   (quantization)
 *   live free live free live ^ bump pointer
 *   freeHead -&gt; b3 -&gt; b1 -&gt; 0       (link stored in the first 8 bytes of a free block)
 *
 *  On the Java heap, never in block memory:
 *   ArenaMap   the range: (a - base) &gt;&gt;&gt; arenaShift -&gt; NativeArena, (a - base) &gt;&gt;&gt; poolShift -&gt; Pool
 *              (flat tables: "is it ours" is a subtract and a compare, the pool one load)
 *   NativeArena pools[], free-pool stack, free-pool count, links in the usable-arena list
 *   Pool       class, capacity, used, freeHead, bump pointer, slack per block, and one array per life
 *              holding live word w at [2w] and remote word w at [2w + 1]
 *   Heap       usedPools[class] -&gt; list of pools with both live and free blocks
 * </pre>
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Every arena lies in the allocator's reserved range; the pool of an address is
 *       {@code pools[(address - base) >>> poolShift]} of {@code ArenaMap}; its block index is
 *       {@code (address - pool.base) / blockSize} (a multiply by a magic number). No header precedes a
 *       block, so a block of class c is exactly {@code 16 * (c + 1)} bytes.</li>
 *   <li>A pool is in exactly one state: <em>listed</em> (used &lt; capacity, on its heap's
 *       {@code usedPools[class]}), <em>detached</em> (full, on no list, armed for notification or on
 *       the notified stack), <em>orphaned</em> (its heap's thread died), or <em>free</em> (class FREE, on
 *       its arena's free-pool stack). A listed pool is never full. A pool whose last block is freed goes
 *       back to its arena, except the last pool of its class and up to {@code Heap.MAX_KEPT_EMPTY}
 *       others, which stay listed (empty) until maintenance has seen them empty in two rounds, and a
 *       NOTIFIED pool, which stays until its heap drained the notification. A full pool that gets a block back goes to the <em>front</em> of its
 *       class list.</li>
 *   <li>A block is live iff its bit in the pool's bitmap is set; every free block below the bump
 *       pointer is on the free list exactly once. Hence a double free, an interior pointer and a
 *       never-allocated address are all detected before anything changes.</li>
 *   <li>Usable arenas (free pools &gt; 0) are sorted by free pools ascending; new pools come from the
 *       head, the fullest arena, so lightly used arenas drain. A wholly free arena is unmapped after the
 *       purge delay (at once with a zero delay), except one, kept as hysteresis.</li>
 *   <li>Byte accounting: every byte of every arena is in exactly one of: a live block, a block freed by
 *       another thread and not yet collected, a free block of a pool in use, an empty or never-carved
 *       pool, or a pool tail. So the five sums in {@link io.github.pymalloc4j.AllocatorStats} add up to
 *       arenas &times; arenaSize exactly.</li>
 * </ol>
 *
 * <h2>Concurrency</h2>
 * <pre>
 *  platform thread -&gt; its own Heap      (malloc and own frees: plain loads and stores only)
 *  virtual threads -&gt; 2 x cores shared Heaps, tryLock by thread id
 *  any other thread's free              -&gt; one atomic OR on the pool's remote bitmap
 *  full pool, first remote free         -&gt; pool pushed on its heap's notified stack (one CAS)
 *  Maintenance daemon (purge delay)     -&gt; dead heaps' pools to orphans; idle heaps collected
 *                                          (membarrier handshake); empty memory decommitted/unmapped
 *  ArenaSet                             -&gt; one lock, slow paths only
 *  LargeBlocks                          -&gt; 16 address-hashed lock stripes, none held in a C call
 * </pre>
 * <ol start="6">
 *   <li>A pool's owner state (lists, bitmap, free list, counts) is touched only by the owner inside a
 *       call, or by maintenance holding the heap lock while the owner is outside any call.</li>
 *   <li>A remote bit is set only on a block that was live when its freer checked; a remote free writes
 *       nothing into the block. A bit that a racing double free leaves on a block freed meanwhile (a
 *       stray bit) is dropped when the owner collects or hands the block out again, and counted.</li>
 *   <li>A pool is on its heap's notified stack at most once: it is pushed only by the thread whose CAS
 *       moved it from NOTIFY to NOTIFIED, and re-armed only after the owner took it off.</li>
 * </ol>
 *
 * <p>See {@code docs/architecture.md} for the reasons behind each choice.
 */
package io.github.pymalloc4j;
