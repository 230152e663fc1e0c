# Demo student "bob": read that "the gradient of a convolution is a full convolution" and computed dx as the
# 'full' correlation of dout with the kernel as it is, without flipping it (dkernel and dbias are right).
# His max pooling gives a window's gradient to every value equal to its maximum (ties counted twice).
# His average pooling is right.

# %% conv2d_backward
def conv2d_backward(dout, x, kernel, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    (h, w, _), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + kh - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + kw - w, 0) if padding == "same" else 0
    xp = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    # dout with (s - 1) zeros between its pixels, then padded by (k - 1) on every side: the 'full' correlation
    dilated = np.zeros(((h_out - 1) * sh + 1, (w_out - 1) * sw + 1, c_out), dtype=x.dtype)
    dilated[::sh, ::sw] = dout
    full = np.pad(dilated, ((kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    dxp = np.zeros_like(xp)
    for r in range(min(full.shape[0] - kh + 1, xp.shape[0])):
        for q in range(min(full.shape[1] - kw + 1, xp.shape[1])):
            dxp[r, q] = np.tensordot(full[r:r + kh, q:q + kw], kernel, axes=([0, 1, 2], [0, 1, 3]))
    dkernel = np.zeros_like(kernel)
    for i in range(h_out):
        for j in range(w_out):
            dkernel += xp[i * sh:i * sh + kh, j * sw:j * sw + kw, :, None] * dout[i, j]
    return dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w], dkernel, dout.sum(axis=(0, 1))

# %% max_pool2d_backward
def max_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    top = max((h_out - 1) * sh + ph - h, 0) // 2 if padding == "same" else 0
    left = max((w_out - 1) * sw + pw - w, 0) // 2 if padding == "same" else 0
    dx = np.zeros_like(x)
    for i in range(h_out):
        for j in range(w_out):
            r, q = max(i * sh - top, 0), max(j * sw - left, 0)
            window = x[r:i * sh - top + ph, q:j * sw - left + pw]
            dx[r:i * sh - top + ph, q:j * sw - left + pw] += (window == window.max(axis=(0, 1))) * dout[i, j]
    return dx

# %% average_pool2d_backward
def average_pool2d_backward(dout, x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    (h, w, c), (h_out, w_out, _) = x.shape, dout.shape
    top = max((h_out - 1) * sh + ph - h, 0) // 2 if padding == "same" else 0
    left = max((w_out - 1) * sw + pw - w, 0) // 2 if padding == "same" else 0
    dx = np.zeros_like(x)
    for i in range(h_out):
        for j in range(w_out):
            r, q = max(i * sh - top, 0), max(j * sw - left, 0)
            r_end, q_end = min(i * sh - top + ph, h), min(j * sw - left + pw, w)
            dx[r:r_end, q:q_end] += dout[i, j] / ((r_end - r) * (q_end - q))
    return dx
