# Demo student "carol": her 'same' padding puts the extra row/column at the top/left (she learned
# floor(total / 2) "after"), in all three functions; her average pooling also divides by the whole pool
# size at the borders. Her 'valid' answers are right.

# %% conv2d_backward
def conv2d_backward(dout, x, kernel, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    (h, w, _), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + kh - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + kw - w, 0) if padding == "same" else 0
    top, left = th - th // 2, tw - tw // 2
    xp = np.pad(x, ((top, th // 2), (left, tw // 2), (0, 0)))
    dxp = np.zeros_like(xp)
    dkernel = np.zeros_like(kernel)
    for i in range(h_out):
        for j in range(w_out):
            window = (slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw))
            dkernel += xp[window][..., None] * dout[i, j]
            dxp[window] += kernel @ dout[i, j]
    return dxp[top:top + h, left:left + w], dkernel, dout.sum(axis=(0, 1))

# %% max_pool2d_backward
def max_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + ph - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + pw - w, 0) if padding == "same" else 0
    top, left = th - th // 2, tw - tw // 2
    dx = np.zeros_like(x)
    for i in range(h_out):
        for j in range(w_out):
            r, q = max(i * sh - top, 0), max(j * sw - left, 0)
            window = x[r:i * sh - top + ph, q:j * sw - left + pw]
            for ch in range(c):
                a, b = np.unravel_index(np.argmax(window[:, :, ch]), window.shape[:2])
                dx[r + a, q + b, ch] += dout[i, j, ch]
    return dx

# %% average_pool2d_backward
def average_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + ph - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + pw - w, 0) if padding == "same" else 0
    top, left = th - th // 2, tw - tw // 2
    dx = np.zeros_like(x)
    for i in range(h_out):
        for j in range(w_out):
            r, q = max(i * sh - top, 0), max(j * sw - left, 0)
            dx[r:i * sh - top + ph, q:j * sw - left + pw] += dout[i, j] / (ph * pw)
    return dx
