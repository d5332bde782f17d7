/**
 * pymalloc4j: a pymalloc-style allocator of native memory for small objects.
 *
 * <p>This page is the one description of the core: its layout, the states of pools, arenas and heaps,
 * the invariants, the fast path and the protocols between threads. {@code docs/architecture.md} gives
 * the reasons behind each choice.
 *
 * <h2>Layout</h2>
 * <pre>
 *  one reserved range (mmap PROT_NONE, MAP_NORESERVE): | slot 0 | slot 1 | ... | (never committed) |
 *    |  an arena is committed into the lowest free slot (MAP_FIXED read-write), given back PROT_NONE
 *    v  arenaSize bytes (1 MiB), aligned to arenaSize          system allocator (malloc/free)
 *                                                            ^  requests &gt; 512 B, or alignment a
 *  +-------------------------- arena ---------------------+  |  block cannot give: LargeBlocks
 *  | pool 0 | pool 1 | pool 2 |  ...  | pool k | untouched |  |  records address -&gt; size
 *  +--------+--------+--------+-------+--------+-----------+
 *      |                                  ^ high-water mark (pools carved lazily)
 *      v  poolSize bytes (16 KiB), aligned to poolSize, one size class
 *  +----+----+----+----+----+-------------------+------+
 *  | b0 | b1 | b2 | b3 | b4 |  never handed out  | tail |   tail = poolSize mod blockSize
 *  +----+----+----+----+----+-------------------+------+   (quantization)
 *   live free live free live ^ bump pointer
 *   freeHead -&gt; b3 -&gt; b1 -&gt; 0       (link stored in the first 8 bytes of a free block)
 *
 *  On the Java heap, never in block memory:
 *   ArenaMap     the range: arenas[(a - base) &gt;&gt;&gt; arenaShift] -&gt; NativeArena,
 *                pools[(a - base) &gt;&gt;&gt; poolShift] -&gt; Pool ("is it ours" is a subtract and a compare)
 *   NativeArena  pools[], free-pool stack, carved (high-water mark), links in the usable-arena list
 *   Pool         owner heap, class, capacity, used, freeHead, bump pointer, notify state, slack per block,
 *                and ONE array per life: live word w at bits[2w], remote word w at bits[2w + 1]
 *   Heap         listedPools[class] -&gt; list of the heap's listed pools, the notified stack, counters
 *   ThreadHeap   a caller-held handle on the calling thread's Heap (mimalloc's mi_heap_t)
 *   ArenaSet     the arenas, one lock: UsableArenas (sorted list), Orphans (thread death),
 *                ArenaMapping (commit, decommit, unmap)
 *   LargeBlocks  16 address-hashed stripes, each a lock and a map address -&gt; size
 * </pre>
 *
 * <h2>States</h2>
 * A <b>pool</b> is in exactly one of four states:
 * <table>
 *   <caption>Pool states</caption>
 *   <tr><th>state</th><th>fields</th><th>where</th></tr>
 *   <tr><td><em>free</em></td><td>{@code sizeClass == FREE}, heap null</td>
 *       <td>on its arena's free-pool stack (or never carved)</td></tr>
 *   <tr><td><em>listed</em></td><td>heap set, {@code listed}, {@code used < capacity}</td>
 *       <td>on its heap's {@code listedPools[class]}; an <em>empty</em> listed pool ({@code used == 0}) is
 *       the last of its class, or one of at most {@code Heap.MAX_KEPT_EMPTY} <em>kept</em> ones
 *       ({@code keptEmpty})</td></tr>
 *   <tr><td><em>detached</em></td><td>heap set, not {@code listed}, {@code used == capacity}, notify state
 *       NOTIFY or NOTIFIED</td><td>on no list: armed for notification, or on (or on its way to) its heap's
 *       notified stack</td></tr>
 *   <tr><td><em>orphaned</em></td><td>heap null, class set, notify state NONE</td>
 *       <td>on {@code Orphans}' list of its class (its heap's thread died)</td></tr>
 * </table>
 * <pre>
 *  free --ArenaSet.takePool--&gt; listed --fills up: Heap.onFull, armed--&gt; detached
 *  listed --last block freed: Heap.onEmpty (not the last of its class, not kept)--&gt; free (ArenaSet.freePool)
 *  listed empty --maintenance saw it empty in two rounds, trim(), or a refused request--&gt; free
 *  detached --owner frees a block (Heap.freeLocal) or drains its notification (Heap.drainNotified)--&gt; listed (front)
 *  listed, detached --thread death: Orphans.abandonDeadHeaps--&gt; orphaned, or free if empty
 *                     (a NOTIFIED one waits for the dead heap's drain, then Orphans.orphanOrFree)
 *  orphaned --a heap needs its class: Orphans.adopt--&gt; listed;   --empty: Orphans.freeEmpty--&gt; free
 * </pre>
 * A free pool is also <em>committed</em> or decommitted ({@code madvise(MADV_DONTNEED)}, from the round after
 * it became free; {@code ArenaMapping}'s decommit queue). Notify states ({@code Notification.NONE, NOTIFY,
 * NOTIFIED}) only matter for a detached pool; see "Notification" below.
 *
 * <p>An <b>arena</b> is <em>usable</em> (a free pool; on {@code UsableArenas}' list), <em>full</em> (no free
 * pool; off the list), and, among the usable, <em>wholly free</em> (every pool free). A wholly free arena
 * is unmapped after the purge delay (at once with a zero delay), except one kept as hysteresis; taken out
 * of the map, it waits <em>unmapping</em> until no slow-path call is in flight.
 *
 * <p>A <b>heap</b> is <em>live</em> (in {@code HeapSet}), <em>abandoned</em> (its thread died; it waits for
 * notifications still in flight, {@code Orphans}) or gone (its counters kept by {@code Maintenance}).
 *
 * <h2>Invariants</h2>
 * Each names where it is asserted ({@code assert}, on in the tests) or checked by the full check.
 * <ol>
 *   <li>Every arena lies in the allocator's reserved range; the pool of an address is
 *       {@code pools[(address - base) >>> poolShift]} of {@code ArenaMap}; its block index is
 *       {@code (address - pool.base) / blockSize} (a multiply by a magic number, {@code SizeClass}). No
 *       header precedes a block, so a block of class c is exactly {@code 16 * (c + 1)} bytes.</li>
 *   <li>A pool is in exactly one of the four states above, with exactly those fields. Asserted in
 *       {@code Pool.init} (only a free pool gets a class), {@code Pool.markFree} (no live block, no
 *       notification in flight), {@code Pool.listBefore} (a listed pool is never full),
 *       {@code Notification.arm} (only a full pool is armed), {@code Orphans.orphan}, {@code NativeArena.returnPool};
 *       full check: {@code Heap.check}, {@code ArenaSet.checkDetached}, {@code Orphans.check},
 *       {@code ArenaSet.checkInvariants}.</li>
 *   <li>A block is live iff its live bit is set; {@code used} is the number of live bits; every free
 *       block below the bump pointer is on the free list exactly once, so
 *       {@code used + free list + never handed out == capacity}. Hence a double free, an interior pointer
 *       and a never-allocated address are all detected before anything changes. Full check:
 *       {@code Pool.check}; a free-list link is also checked whenever it is popped ({@code Pool.allocate}).</li>
 *   <li>Usable arenas are sorted by free pools ascending, {@code lastWithFree[n]} is the last with n; new
 *       pools come from the head, the fullest arena. Asserted around every move
 *       ({@code UsableArenas}); full check: {@code UsableArenas.check}.</li>
 *   <li>Byte accounting: every byte of every arena is in exactly one of: a live block, a block freed by
 *       another thread and not yet collected, a free block of a listed or detached pool, a free or
 *       never-carved pool, or a pool tail. So the five sums in {@link io.github.pymalloc4j.AllocatorStats}
 *       add up to arenas &times; arenaSize exactly (checked by the tests at every snapshot).</li>
 *   <li>A pool's owner state (lists, bitmap, free list, counts) is touched only by the owner inside a
 *       call, or by maintenance holding the heap lock while the owner is outside any call (the owner
 *       handshake). Asserted on the owner's slow paths ({@code Heap.noMaintenanceInCall}).</li>
 *   <li>A remote bit is set only on a block that was live when its freer checked; a remote free writes
 *       nothing into the block. A bit that a racing double free leaves on a block freed meanwhile (a
 *       stray bit) is dropped when the owner collects or hands the block out again, and counted.</li>
 *   <li>A pool is on its heap's notified stack at most once: it is pushed only by the thread whose CAS
 *       moved it from NOTIFY to NOTIFIED, and re-armed only after the owner took it off. Asserted in
 *       {@code Notification.push} and {@code Notification.taken}.</li>
 * </ol>
 *
 * <h2>The fast path</h2>
 * One spine per call, plain loads and stores only, each with one exit to a named slow path:
 * <pre>
 *  Allocator.malloc(size)   size &lt;= 512, heap = byThread[tid &amp; 4095], heap.ownerThread == me?  else mallocSlow
 *   Heap.malloc             enter (handshake) -&gt; allocate -&gt; exit
 *   Heap.allocate           pool = listedPools[class]; pool.allocate; full? onFull     none listed: allocateSlow
 *   Pool.allocate           pop freeHead (checked: handed out, on a boundary, not live) or bump; live bit; used++
 *  Allocator.free(address)  pool = ArenaMap.poolOfPlain(address); heap = pool.heap; heap.ownerThread == me
 *                           and heap.freeOwned(pool, address)?                                   else freeSlow
 *   Heap.freeOwned          enter -&gt; pool still this heap's? (else false) -&gt; freeLocal -&gt; exit
 *   Heap.freeLocal          pool.freeOwned; the pool moves only if it was detached or emptied and is not the
 *                           last of its class                                                 else afterFreeMoves
 *   Pool.freeOwned          block boundary, live bit set, remote bit clear (one 16-byte pair); clear; push
 *                                                                (bad input: liveBlockIndexAcquire throws why)
 *  ThreadHeap.malloc/free   the same without the thread table (the caller holds the heap)
 * </pre>
 * {@code mallocSlow}: first call of a thread, a slot held by another thread, virtual threads (shared heaps),
 * large blocks, bad sizes. {@code freeSlow}: 0, large blocks, remote frees ({@code Pool.freeRemote}), every
 * bad address. {@code Heap.allocateSlow}: drain the notified stack, take a pool ({@code ArenaSet.takePool}).
 * realloc's in-place rule is {@code Allocator.REALLOC_IN_PLACE_QUARTERS}.
 *
 * <h2>Threads and protocols</h2>
 * <pre>
 *  platform thread -&gt; its own Heap      (malloc and own frees: plain loads and stores only)
 *  virtual threads -&gt; 2 x cores shared Heaps, tryLock by thread id
 *  any other thread's free              -&gt; one atomic OR on the pool's remote bitmap (Pool.freeRemote)
 *  Maintenance daemon (purge delay)     -&gt; Orphans (dead heaps); idle heaps collected (owner handshake);
 *                                          ArenaSet.purge (decommit, unmap)
 *  ArenaSet                             -&gt; one lock, slow paths only
 *  LargeBlocks                          -&gt; 16 address-hashed lock stripes, none held in a C call
 * </pre>
 * <ul>
 *   <li><b>Owner handshake</b> ({@code Heap}: {@code enter}, {@code exit}, {@code requestMaintenanceVolatile},
 *       {@code ownerInCallAcquire}; {@code Maintenance.maintainIdleHeaps}; {@code ProcessBarrier}): an
 *       asymmetric Dekker pair. The owner stores {@code inCall = 1} (opaque) and loads
 *       {@code maintenanceRequested}; maintenance takes the heap lock, sets the request, runs
 *       {@code membarrier} (a fence on every running thread) and loads {@code inCall}: one of the two sees
 *       the other. Only when {@code lockFreeOwners} ({@code ProcessBarrier.isAvailable()}); otherwise
 *       owners lock their heap on every call.</li>
 *   <li><b>Notification</b> (a detached pool brought back by its first remote free): every step in
 *       {@code Notification}. Arm: {@code armOrCollect} &rarr; {@code arm} (NONE &rarr; NOTIFY, volatile
 *       store, then volatile reads of the remote words, {@code Pool.hasRemoteBitVolatile}); claim:
 *       {@code Pool.freeRemote} ORs its bit, then {@code claim} (NOTIFY &rarr; NOTIFIED by CAS); push:
 *       {@code push} (CAS on the heap's stack head); drain: {@code Heap.drainNotified} walks
 *       {@code takeAll} with {@code taken} (NOTIFIED &rarr; NONE), then collects, lists or re-arms.
 *       Arming and a remote free each write, then read what the other writes (a Dekker pair), so no free
 *       into a full pool is missed. A pool back on its list disarms ({@code disarm}, NOTIFY &rarr; NONE by
 *       CAS).</li>
 *   <li><b>Thread death</b>: {@code Orphans}, start to end (see its class comment).</li>
 *   <li><b>Statistics file</b>: {@code StatsFileWriter} (the writer's half of the seqlock) and
 *       {@code StatsFile.read} (the reader's); {@code StatsDirectory} decides where files live and which to
 *       trust, {@code StatsFileLayout} holds the bytes, {@code StatsPublisher} the thread.</li>
 *   <li><b>Close</b>: {@code InFlightCalls} for every slow-path call, the owner handshake for the fast
 *       path ({@code Heap.close}, {@code HeapSet.close}); arenas are unmapped only while no call is in
 *       flight ({@code ArenaMapping.unmapQuiet}).</li>
 * </ul>
 *
 * <p>Memory ordering is in the names of shared accessors, as in Agrona: {@code ...Plain}, {@code ...Opaque},
 * {@code ...Acquire}, {@code ...Release}, {@code ...Volatile} (e.g. {@code ArenaMap.poolOfPlain},
 * {@code Pool.lifeAcquire}, {@code Pool.pendingRemoteFreesOpaque}, {@code Heap.ownerInCallAcquire}); atomic
 * read-modify-writes (CAS, getAndSet, OR) carry no suffix. The fast path reads the fields it needs
 * directly, with the ordering stated at the field.
 *
 * <p>The jcstress module ({@code docs/jcstress.md}) runs both handshakes and the remote double free on the
 * real classes under {@code mvn verify}: {@code MaintenanceHandshakeStress} (owner handshake),
 * {@code FullPoolArmingStress} and {@code NotifyOnceStress} (notification), {@code RemoteDoubleFreeStress}
 * and {@code OwnerRemoteDoubleFreeStress} (invariant 7).
 *
 * <h2>Statistics</h2>
 * Every allocator-wide total is one line of {@link io.github.pymalloc4j.Statistic} (group, JSON key, unit,
 * file slot, label, meaning); the snapshot's fields, the text report, both JSON forms
 * ({@code docs/stats.schema.json}), the file's totals and {@code arena-dump} are generated from that list.
 *
 * <h2>Checks</h2>
 * The invariants are asserted where each can break: in state transitions and slow paths, never on the
 * fast path (its bytecode size decides C2's inlining). The expensive whole-allocator check is a debug
 * tier: with {@code -Dpymalloc4j.check=full}, every {@code stats()}, {@code trim()} and {@code close()} runs
 * the full check ({@code Maintenance.checkFull}: {@code ArenaSet.checkInvariants(true)}, then
 * {@code Heap.check}, {@code Pool.check} and {@code ArenaSet.checkDetached} for each heap whose owner the
 * owner handshake excludes at that moment) and throws {@link java.lang.IllegalStateException} naming the
 * first broken invariant ({@code close()} releases everything first). Tests call
 * {@code Allocator.checkFull()} and {@code Allocator.checkInvariants()} directly.
 */
package io.github.pymalloc4j;
