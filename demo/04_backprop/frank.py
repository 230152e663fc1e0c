# Demo student "frank": his conv2d_backward computes the right arrays but returns them as a list
# [dx, dkernel, dbias] instead of the tuple the exercise asks for. His max_pool2d_backward writes each
# window's gradient with = instead of += (a value that is the maximum of overlapping windows keeps only the
# last one): right when the windows do not overlap. Did not answer average_pool2d_backward.

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
            dxp[i * sh:i * sh + kh, j * sw:j * sw + kw] += kernel @ dout[i, j]
    return [dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w], dkernel, dout.sum(axis=(0, 1))]

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
            for ch in range(c):
                a, b = np.unravel_index(np.argmax(window[:, :, ch]), window.shape[:2])
                dx[r + a, q + b, ch] = dout[i, j, ch]
    return dx
