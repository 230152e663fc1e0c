# Demo student "bob": remembers convolution from a signal-processing course and
# flips the kernel (a true convolution). Keras computes cross-correlation.

# %% dense_param_count
def dense_param_count(input_shape, units):
    return (int(np.prod(input_shape)) + 1) * units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return (kh * kw * in_channels + 1) * filters

# %% correlate2d
def correlate2d(image, kernel):
    k = kernel[::-1, ::-1]
    kh, kw = k.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * k).sum()
    return out
