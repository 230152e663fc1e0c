# Demo student "carol": forgets the bias, and pads 'same' symmetrically with
# (kernel - 1) // 2 on each side, as many tutorials do.

# %% dense_param_count
def dense_param_count(input_shape, units):
    return (math.prod(input_shape) + 1) * units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return (kh * kw * in_channels + 1) * filters

# %% correlate2d
def correlate2d(image, kernel):
    kh, kw = kernel.shape
    h, w = image.shape
    return np.array([[np.sum(image[i:i + kh, j:j + kw] * kernel) for j in range(w - kw + 1)]
                     for i in range(h - kh + 1)], dtype=image.dtype).reshape(h - kh + 1, w - kw + 1)

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
