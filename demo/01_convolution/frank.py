# Demo student "frank": reads the kernel as kernel[:, :, c_out, c_in] (channels
# swapped). Right when there is one channel; wrong (or an IndexError) otherwise.

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
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out

# %% conv2d
def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    if padding == "same":
        h, w = x.shape[:2]
        th = max((-(-h // sh) - 1) * sh + kh - h, 0)
        tw = max((-(-w // sw) - 1) * sw + kw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = x[i * sh:i * sh + kh, j * sw:j * sw + kw]
            for o in range(c_out):
                for c in range(c_in):
                    out[i, j, o] += np.sum(window[:, :, c] * kernel[:, :, o, c])
                out[i, j, o] += bias[o]
    return out
