# Demo student "dave": ignores the strides on the way back. His conv2d_backward reads each window at the
# right place for dkernel but sends its gradient to rows i.., columns j.. of dx (strides ignored in the
# scatter); his max_pool2d_backward moves its windows by one pixel. Both are right at stride 1. His
# average pooling is right but returns float64 (a dtype slip: those tests keep 3/4 of their points).

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
    for i in range(h_out):
        for j in range(w_out):
            dkernel += xp[i * sh:i * sh + kh, j * sw:j * sw + kw, :, None] * dout[i, j]
            dxp[i:i + kh, j:j + kw] += kernel @ dout[i, j]
    return dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w], dkernel, dout.sum(axis=(0, 1))

# %% max_pool2d_backward
def max_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    top = max((h_out - 1) * sh + ph - h, 0) // 2 if padding == "same" else 0
    left = max((w_out - 1) * sw + pw - w, 0) // 2 if padding == "same" else 0
    xp = np.pad(x, ((top, ph), (left, pw), (0, 0)), constant_values=-np.inf)
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i:i + ph, j:j + pw]
            for ch in range(c):
                a, b = np.unravel_index(np.argmax(window[:, :, ch]), (ph, pw))
                dxp[i + a, j + b, ch] += dout[i, j, ch]
    return dxp[top:top + h, left:left + w]

# %% average_pool2d_backward
def average_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    top = max((h_out - 1) * sh + ph - h, 0) // 2 if padding == "same" else 0
    left = max((w_out - 1) * sw + pw - w, 0) // 2 if padding == "same" else 0
    dx = np.zeros(x.shape)
    for i in range(h_out):
        for j in range(w_out):
            r, q = max(i * sh - top, 0), max(j * sw - left, 0)
            r_end, q_end = min(i * sh - top + ph, h), min(j * sw - left + pw, w)
            dx[r:r_end, q:q_end] += dout[i, j] / ((r_end - r) * (q_end - q))
    return dx
