package domain

import "sync"

// DefaultScopeCapacity is the number of chats a ScopeTable remembers when
// it is built with a capacity <= 0.
const DefaultScopeCapacity = 100000

// ScopeTable remembers, per chat, the last egress discriminator inbound
// traffic showed, for at most a fixed number of chats. When full, it
// forgets the least recently used chat; both Remember and Lookup count as a
// use. It is safe for concurrent use; no method blocks beyond a short
// critical section. Memory grows with the number of chats up to the
// capacity and is reused after that, so a full table does not allocate
// for its own bookkeeping.
//
// The zero value is not usable; build one with NewScopeTable.
type ScopeTable struct {
	mu       sync.Mutex
	capacity int
	index    map[string]int32
	// entries holds the slots of a doubly linked list ordered from the
	// most recently used (head) to the least (tail).
	entries []scopeEntry
	head    int32
	tail    int32
}

// scopeEntry is one remembered chat, linked by slot index.
type scopeEntry struct {
	chatID string
	d      Discriminator
	prev   int32
	next   int32
}

// noSlot marks the end of the list.
const noSlot int32 = -1

// maxScopeCapacity bounds the capacity so that slot indexes fit an int32.
const maxScopeCapacity = 1 << 30

// NewScopeTable returns an empty table that remembers at most capacity
// chats; a capacity <= 0 means DefaultScopeCapacity. Capacities above 2^30
// are reduced to 2^30.
func NewScopeTable(capacity int) *ScopeTable {
	if capacity <= 0 {
		capacity = DefaultScopeCapacity
	}

	capacity = min(capacity, maxScopeCapacity)

	return &ScopeTable{
		capacity: capacity,
		index:    make(map[string]int32),
		head:     noSlot,
		tail:     noSlot,
	}
}

// Remember records d as the discriminator of chatID, replacing what was
// remembered (so the latest inbound wins, whether it showed a scope or a
// DM user), and marks the chat as the most recently used. An empty chatID
// or a zero d is ignored. When the table is full, the least recently used
// other chat is forgotten.
func (t *ScopeTable) Remember(chatID string, d Discriminator) {
	if chatID == "" || d.IsZero() {
		return
	}

	t.mu.Lock()
	defer t.mu.Unlock()

	if slot, ok := t.index[chatID]; ok {
		t.entries[slot].d = d
		t.moveToFront(slot)

		return
	}

	var slot int32
	if len(t.entries) < t.capacity {
		slot = int32(len(t.entries))
		t.entries = append(t.entries, scopeEntry{})
	} else {
		slot = t.tail
		t.unlink(slot)
		delete(t.index, t.entries[slot].chatID)
	}

	t.entries[slot] = scopeEntry{chatID: chatID, d: d, prev: noSlot, next: noSlot}
	t.index[chatID] = slot
	t.pushFront(slot)
}

// Lookup returns the discriminator remembered for chatID and whether there
// is one. A hit marks the chat as the most recently used.
func (t *ScopeTable) Lookup(chatID string) (Discriminator, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()

	slot, ok := t.index[chatID]
	if !ok {
		return Discriminator{}, false
	}

	t.moveToFront(slot)

	return t.entries[slot].d, true
}

// Len returns the number of chats remembered, never more than the
// capacity.
func (t *ScopeTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()

	return len(t.index)
}

// Capacity returns the most chats the table remembers.
func (t *ScopeTable) Capacity() int { return t.capacity }

// moveToFront makes slot the head of the list. The caller holds mu.
func (t *ScopeTable) moveToFront(slot int32) {
	if t.head == slot {
		return
	}

	t.unlink(slot)
	t.pushFront(slot)
}

// unlink removes slot from the list. The caller holds mu.
func (t *ScopeTable) unlink(slot int32) {
	e := &t.entries[slot]
	if e.prev != noSlot {
		t.entries[e.prev].next = e.next
	} else {
		t.head = e.next
	}

	if e.next != noSlot {
		t.entries[e.next].prev = e.prev
	} else {
		t.tail = e.prev
	}

	e.prev, e.next = noSlot, noSlot
}

// pushFront links an unlinked slot in as the head. The caller holds mu.
func (t *ScopeTable) pushFront(slot int32) {
	e := &t.entries[slot]
	e.prev = noSlot
	e.next = t.head
	if t.head != noSlot {
		t.entries[t.head].prev = slot
	} else {
		t.tail = slot
	}

	t.head = slot
}
