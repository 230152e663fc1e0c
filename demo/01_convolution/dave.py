# Demo student "dave": off-by-one output size in correlate2d, ignores the
# strides in conv2d, and counts Conv2D parameters without the biases.

# %% dense_param_count
def dense_param_count(input_shape, units):
    return (math.prod(input_shape) + 1) * units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return kh * kw * in_channels * filters

# %% correlate2d
def correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh, image.shape[1] - kw), dtype=image.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out

# %% conv2d
def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    if padding == "same":
        h, w = x.shape[:2]
        x = np.pad(x, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    h_out, w_out = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.tensordot(x[i:i + kh, j:j + kw], kernel, axes=3) + bias
    return out
