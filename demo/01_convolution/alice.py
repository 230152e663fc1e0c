# Demo student "alice": everything right. Expected: full marks.

# %% dense_param_count
def dense_param_count(input_shape, units):
    n = 1
    for d in input_shape:
        n *= d
    return n * units + units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return kh * kw * in_channels * filters + filters

# %% correlate2d
def correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * image[a:a + out.shape[0], b:b + out.shape[1]]
    return out
