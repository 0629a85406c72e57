#include "timers/timer_splay.h"

#include <cassert>
#include <string>

namespace msb::detail {

// Top-down splay: walks from t towards key, hanging the nodes passed into a left tree (keys
// below) and a right tree (keys above), rotating on zig-zig steps; the last node reached
// becomes the root with the two trees as its children.
TimerNode* SplayTimers::splay(std::int64_t key, TimerNode* t) {
  if (!t) return t;
  TimerNode header;
  TimerNode* l = &header;
  TimerNode* r = &header;
  for (;;) {
    ++steps_;
    if (key < t->key) {
      if (!t->left) break;
      if (key < t->left->key) {
        TimerNode* y = t->left;  // rotate right
        t->left = y->right;
        y->right = t;
        t = y;
        ++rotations_;
        if (!t->left) break;
      }
      r->left = t;  // link right
      r = t;
      t = t->left;
    } else if (key > t->key) {
      if (!t->right) break;
      if (key > t->right->key) {
        TimerNode* y = t->right;  // rotate left
        t->right = y->left;
        y->left = t;
        t = y;
        ++rotations_;
        if (!t->right) break;
      }
      l->right = t;  // link left
      l = t;
      t = t->right;
    } else {
      break;
    }
  }
  l->right = t->left;
  r->left = t->right;
  t->left = header.right;
  t->right = header.left;
  return t;
}

void SplayTimers::insert(TimerNode* node, std::int64_t key) {
  assert(!node->queued);
  ++inserts_;
  ++size_;
  node->key = key;
  node->queued = true;
  node->same_next = node->same_prev = node;
  node->sub = false;
  if (!root_) {
    node->left = node->right = nullptr;
    root_ = node;
    return;
  }
  root_ = splay(key, root_);
  if (root_->key == key) {
    // Join the ring of equal keys behind the tree node (at its tail: first in, first out).
    node->sub = true;
    node->left = node->right = nullptr;
    node->same_next = root_;
    node->same_prev = root_->same_prev;
    root_->same_prev->same_next = node;
    root_->same_prev = node;
    return;
  }
  if (key < root_->key) {
    node->left = root_->left;
    node->right = root_;
    root_->left = nullptr;
  } else {
    node->right = root_->right;
    node->left = root_;
    root_->right = nullptr;
  }
  root_ = node;
}

void SplayTimers::remove_root(TimerNode* rep) {
  assert(rep == root_);
  if (rep->same_next != rep) {
    // Promote the next equal-key node into the tree in rep's place.
    TimerNode* heir = rep->same_next;
    heir->same_prev = rep->same_prev;
    rep->same_prev->same_next = heir;
    heir->sub = false;
    heir->left = rep->left;
    heir->right = rep->right;
    root_ = heir;
  } else if (!rep->left) {
    root_ = rep->right;
  } else {
    // Every key on the left is smaller, so splaying rep's key there brings the largest of
    // them to the top with no right child: rep's right subtree hangs there.
    TimerNode* top = splay(rep->key, rep->left);
    top->right = rep->right;
    root_ = top;
  }
  rep->left = rep->right = nullptr;
  rep->same_next = rep->same_prev = rep;
  rep->queued = false;
  --size_;
}

void SplayTimers::remove(TimerNode* node) {
  assert(node->queued);
  ++removes_;
  if (node->sub) {
    node->same_prev->same_next = node->same_next;
    node->same_next->same_prev = node->same_prev;
    node->same_next = node->same_prev = node;
    node->sub = false;
    node->queued = false;
    --size_;
    return;
  }
  root_ = splay(node->key, root_);
  remove_root(node);
}

TimerNode* SplayTimers::pop_expired(std::int64_t now) {
  if (!root_) return nullptr;
  // The smallest key to the root. A root without a left child holds it already, which is
  // the usual case when an event loop asks after every event (the splay would change
  // nothing but would still cost a call: 65 instructions per socket_action in the gate).
  if (root_->left) root_ = splay(INT64_MIN, root_);
  if (root_->key > now) return nullptr;
  ++pops_;
  TimerNode* n = root_;
  if (n->same_next != n) {
    // Hand out the oldest equal-key node from the ring; the tree node stays.
    TimerNode* sub = n->same_next;
    n->same_next = sub->same_next;
    sub->same_next->same_prev = n;
    sub->same_next = sub->same_prev = sub;
    sub->sub = false;
    sub->queued = false;
    --size_;
    return sub;
  }
  remove_root(n);
  return n;
}

std::int64_t SplayTimers::nearest() {
  if (!root_) return INT64_MAX;
  if (root_->left) root_ = splay(INT64_MIN, root_);  // as in pop_expired
  return root_->key;
}

TimerStats SplayTimers::stats() const {
  TimerStats s;
  s.variant = "splay";
  s.size = size_;
  s.inserts = inserts_;
  s.removes = removes_;
  s.pops = pops_;
  s.rotations = rotations_;
  s.steps = steps_;
  return s;
}

namespace {
void shape_of(const TimerNode* n, std::string& out) {
  if (!n) return;
  out += '(';
  if (n->left) {
    shape_of(n->left, out);
    out += ' ';
  }
  out += std::to_string(n->key);
  int same = 0;
  for (const TimerNode* s = n->same_next; s != n; s = s->same_next) ++same;
  if (same) out += " [x" + std::to_string(same + 1) + "]";
  if (n->right) {
    out += ' ';
    shape_of(n->right, out);
  }
  out += ')';
}
}  // namespace

std::string SplayTimers::shape() const {
  std::string out;
  shape_of(root_, out);
  return out;
}

}  // namespace msb::detail
