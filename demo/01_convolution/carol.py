# Demo student "carol": everything right in this notebook. Expected: full marks.
# (Her conv2d, in notebook 2, forgets the bias and pads 'same' symmetrically.)

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
