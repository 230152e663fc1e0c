# Demo student "alice": everything right, vectorized: one step per kernel (or window) offset on whole
# arrays, the first maximum of each window found offset by offset in reading order. Expected: full marks.

# %% conv2d_backward
def conv2d_backward(dout, x, kernel, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    (h, w, _), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + kh - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + kw - w, 0) if padding == "same" else 0
    xp = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    dxp = np.zeros_like(xp)
    dkernel = np.zeros_like(kernel)
    for a in range(kh):
        for b in range(kw):
            rows, cols = slice(a, a + (h_out - 1) * sh + 1, sh), slice(b, b + (w_out - 1) * sw + 1, sw)
            dkernel[a, b] = np.einsum("ijc,ijo->co", xp[rows, cols], dout)
            dxp[rows, cols] += dout @ kernel[a, b].T
    return dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w], dkernel, dout.sum(axis=(0, 1))

# %% max_pool2d_backward
def max_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + ph - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + pw - w, 0) if padding == "same" else 0
    pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0))
    xp = np.pad(x, pads, constant_values=-np.inf)
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    windows = [(slice(a, a + (h_out - 1) * sh + 1, sh), slice(b, b + (w_out - 1) * sw + 1, sw))
               for a in range(ph) for b in range(pw)]
    out = np.max([xp[r, q] for r, q in windows], axis=0)
    taken = np.zeros(out.shape, dtype=bool)
    for r, q in windows:  # reading order: the first maximum of each window takes its gradient
        first = (xp[r, q] == out) & ~taken
        taken |= first
        dxp[r, q] += np.where(first, dout, 0)
    return dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w]

# %% average_pool2d_backward
def average_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + ph - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + pw - w, 0) if padding == "same" else 0
    pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0))
    inside = np.pad(np.ones(x.shape, dtype=x.dtype), pads)
    windows = [(slice(a, a + (h_out - 1) * sh + 1, sh), slice(b, b + (w_out - 1) * sw + 1, sw))
               for a in range(ph) for b in range(pw)]
    count = np.sum([inside[r, q] for r, q in windows], axis=0)  # input values in each window
    dxp = np.zeros(inside.shape, dtype=x.dtype)
    for r, q in windows:
        dxp[r, q] += dout / count
    return dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w]
