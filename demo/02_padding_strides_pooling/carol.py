# Demo student "carol": partly done. Shapes and max pooling are right; her
# average pooling counts the padded zeros; exercise 7 is not attempted.
# Her conv2d forgets the bias, and pads 'same' symmetrically with
# (kernel - 1) // 2 on each side, as many tutorials do; no conv2d_fast.

# %% conv2d_output_shape
def conv2d_output_shape(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
    out = []
    for n, k, s in zip(input_shape[:2], to_pair(kernel_size), to_pair(strides)):
        out.append(-(-n // s) if padding == "same" else (n - k) // s + 1)
    return (out[0], out[1], filters)

# %% conv2d
def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    if padding == "same":
        x = np.pad(x, (((kh - 1) // 2,) * 2, ((kw - 1) // 2,) * 2, (0, 0)))
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = x[i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[i, j] = np.tensordot(window, kernel, axes=3)
    return out

# %% pool2d_output_shape
def pool2d_output_shape(input_shape, pool_size, strides=None, padding="valid"):
    if strides is None:
        strides = pool_size
    h, w, _ = conv2d_output_shape(input_shape, 1, pool_size, strides, padding)
    return (h, w, input_shape[2])

# %% max_pool2d
def _padded(x, pool_size, strides, padding, value):
    ph, pw = to_pair(pool_size)
    sh, sw = to_pair(pool_size if strides is None else strides)
    ho, wo, _ = pool2d_output_shape(x.shape, (ph, pw), (sh, sw), padding)
    if padding == "same":
        th = max((ho - 1) * sh + ph - x.shape[0], 0)
        tw = max((wo - 1) * sw + pw - x.shape[1], 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)), constant_values=value)
    return x, (ph, pw), (sh, sw), (ho, wo)

def max_pool2d(x, pool_size, strides=None, padding="valid"):
    xp, (ph, pw), (sh, sw), (ho, wo) = _padded(x, pool_size, strides, padding, -np.inf)
    out = np.empty((ho, wo, x.shape[2]), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            out[i, j] = np.max(xp[i * sh:i * sh + ph, j * sw:j * sw + pw], axis=(0, 1))
    return out

# %% average_pool2d
def average_pool2d(x, pool_size, strides=None, padding="valid"):
    xp, (ph, pw), (sh, sw), (ho, wo) = _padded(x, pool_size, strides, padding, 0.0)
    out = np.empty((ho, wo, x.shape[2]), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            out[i, j] = np.mean(xp[i * sh:i * sh + ph, j * sw:j * sw + pw], axis=(0, 1))
    return out
